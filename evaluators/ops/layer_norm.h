// LayerNorm over the channels of each token (Ba et al. 2016; torch.nn.LayerNorm(c)).
#pragma once

#include "evaluators/ops/op_params.h"

namespace hwnas {

/// out = (x - mean) / sqrt(var + eps) * gamma + beta per row of c channels (biased variance).
/// in/out: same element count, rows of p.c; may alias. Throws hwnas::Error via validate().
void layer_norm(const LayerNormParams& p, const Tensor& in, const float* gamma, const float* beta,
                Tensor& out);
/// Rows [r0, r1) only, on the calling thread.
void layer_norm_rows(const LayerNormParams& p, const float* in, const float* gamma,
                     const float* beta, float* out, int r0, int r1);
/// Two-pass statistics in double.
void layer_norm_reference(const LayerNormParams& p, const Tensor& in, const float* gamma,
                          const float* beta, Tensor& out);

}  // namespace hwnas
