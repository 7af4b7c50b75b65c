// Depthwise 2-d convolution (one k x k filter per channel; MobileNet's depthwise layer, torch
// Conv2d with groups = channels), NHWC, with fused bias and activation.
#pragma once

#include "evaluators/ops/op_params.h"

namespace hwnas {

/// out(b,y,x,c) = act(bias[c] + sum_{ky,kx} in(b, y*s-pad+ky, x*s-pad+kx, c) * weight[ky,kx,c]),
/// zero padding. in (B,H,W,c), weight (k,k,c) row-major (PyTorch's (c,1,k,k) transposed at load),
/// bias (c) or null, out (B,Ho,Wo,c) preallocated and distinct from in. Fast form: parallel
/// over output rows, vectorised over channels. Throws hwnas::Error via validate().
void depthwise_conv2d(const DepthwiseConv2dParams& p, const Tensor& in, const float* weight,
                      const float* bias, Tensor& out);
/// Plain loops, double accumulation.
void depthwise_conv2d_reference(const DepthwiseConv2dParams& p, const Tensor& in,
                                const float* weight, const float* bias, Tensor& out);

}  // namespace hwnas
