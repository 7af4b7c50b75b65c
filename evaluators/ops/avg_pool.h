// Average pooling, stride 1, "same" padding, padding not counted (torch.nn.AvgPool2d(k, 1, k//2,
// count_include_pad=False), PoolFormer's token mixer).
#pragma once

#include "evaluators/ops/op_params.h"

namespace hwnas {

/// out(b,y,x,c) = mean of in over the p.pool x p.pool window around (y,x) that lies inside the
/// image. in/out (B,H,W,c), distinct. Throws hwnas::Error via validate().
void avg_pool(const PoolMixerParams& p, const Tensor& in, Tensor& out);
/// Plain loops in double.
void avg_pool_reference(const PoolMixerParams& p, const Tensor& in, Tensor& out);

}  // namespace hwnas
