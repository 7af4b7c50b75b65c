// 2-d convolution (NHWC, HWIO weights) with fused bias and activation.
#pragma once

#include "evaluators/ops/op_params.h"
#include "evaluators/ops/packed_gemm.h"

namespace hwnas {

/// out = act(conv(in, weight) + bias). in (B,H,W,cin), weight (k,k,cin,cout) row-major packed
/// as a (k*k*cin) x cout PackedWeights, bias (cout) or null, out (B,Ho,Wo,cout) preallocated.
/// 1x1 stride-1 convolutions are one GEMM; others build im2col rows per pixel tile
/// (thread-local scratch) and run a packed GEMM per tile, in parallel over tiles.
/// Throws hwnas::Error via validate() or if the packed shape does not match p.
void conv2d(const Conv2dParams& p, const Tensor& in, const PackedWeights& weight, const float* bias,
            Tensor& out);
/// Plain nested loops, double accumulation; weight (k,k,cin,cout) unpacked.
void conv2d_reference(const Conv2dParams& p, const Tensor& in, const float* weight,
                      const float* bias, Tensor& out);

}  // namespace hwnas
