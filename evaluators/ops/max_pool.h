// Max pooling, window = stride, no padding: Hiera's Q-pooling of the shortcut branch
// (Ryali et al., ICML 2023; timm hiera.py HieraBlock: x.view(B, q_stride, -1, C).max(dim=1),
// which in hwnas's spatial token order is a 2x2 stride-2 max pool).
#pragma once

#include "evaluators/ops/op_params.h"

namespace hwnas {

/// out(b,y,x,c) = max over in(b, y*k+u, x*k+v, c), u, v in [0, k), k = p.window.
/// in (B,H,W,c) with H, W divisible by k; out (B,H/k,W/k,c), distinct from in.
/// Throws hwnas::Error via validate().
void max_pool(const MaxPoolParams& p, const Tensor& in, Tensor& out);
/// Plain loops.
void max_pool_reference(const MaxPoolParams& p, const Tensor& in, Tensor& out);

}  // namespace hwnas
