// Linear layer / 1x1 convolution over the channel dimension, with fused epilogue.
#pragma once

#include "evaluators/ops/op_params.h"
#include "evaluators/ops/packed_gemm.h"

namespace hwnas {

/// out = act(in * weight + bias) [+ residual]. in: any NHWC tensor whose rows (B*H*W) hold
/// p.in channels; weight (in, out) (PyTorch's (out, in) transposed at load) packed; bias
/// (out) or null; residual: a tensor shaped like out, or null (may be `out` itself).
/// Throws hwnas::Error via validate() or if the packed shape does not match p.
void linear(const LinearParams& p, const Tensor& in, const PackedWeights& weight, const float* bias,
            const Tensor* residual, Tensor& out);
/// Plain loops, double accumulation; weight (in, out) row-major, unpacked.
void linear_reference(const LinearParams& p, const Tensor& in, const float* weight,
                      const float* bias, const Tensor* residual, Tensor& out);

}  // namespace hwnas
