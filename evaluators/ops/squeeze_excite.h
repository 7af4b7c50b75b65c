// Squeeze-and-excitation (Hu et al., CVPR 2018) in MobileNetV3's form (Howard et al., ICCV 2019),
// as ElasticViT's MobileBlock runs it: ReLU in the bottleneck, hard sigmoid as the gate.
#pragma once

#include "evaluators/ops/op_params.h"

namespace hwnas {

/// In place on x (B,H,W,c): a = mean of x over H*W (per sample and channel);
/// s = relu(a * w1 + b1) (reduced); g = hsigmoid(s * w2 + b2) (c), hsigmoid(v) = relu6(v+3)/6;
/// x *= g per channel. w1 (c, reduced) and w2 (reduced, c) row-major (PyTorch's 1x1 conv
/// weights (out, in, 1, 1) transposed at load); b1 (reduced), b2 (c). Scratch is thread-local.
/// Throws hwnas::Error via validate().
void squeeze_excite(const SqueezeExciteParams& p, Tensor& x, const float* w1, const float* b1,
                    const float* w2, const float* b2);
/// Plain loops in double.
void squeeze_excite_reference(const SqueezeExciteParams& p, Tensor& x, const float* w1,
                              const float* b1, const float* w2, const float* b2);

}  // namespace hwnas
