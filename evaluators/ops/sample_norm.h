// LayerNorm over a whole sample: mean and variance over all N tokens and C channels together,
// then a per-channel affine. ElasticViT's transformer norm (microsoft/Moonlit
// ElasticViT/models/transformer.py calls F.layer_norm(x, x.shape[1:]) on (B, N, C) with the
// affine sliced to C); not the per-token LayerNorm of layer_norm.h.
#pragma once

#include "evaluators/ops/op_params.h"

namespace hwnas {

/// out(b,n,c) = (x(b,n,c) - mean_b) / sqrt(var_b + eps) * gamma[c] + beta[c], where mean_b and
/// the biased var_b run over the h*w*c values of sample b. in/out (B,h,w,c), may alias.
/// gamma, beta (c). Throws hwnas::Error via validate().
void sample_norm(const SampleNormParams& p, const Tensor& in, const float* gamma, const float* beta,
                 Tensor& out);
/// Two-pass statistics in double.
void sample_norm_reference(const SampleNormParams& p, const Tensor& in, const float* gamma,
                           const float* beta, Tensor& out);

}  // namespace hwnas
