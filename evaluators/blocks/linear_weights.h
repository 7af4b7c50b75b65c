// A Linear layer's weights in the two forms the engine uses: plain (in, out) for the reference
// kernels and oneDNN-packed for the fast ones.
#pragma once

#include <string>

#include "evaluators/ops/packed_gemm.h"
#include "evaluators/param_reader.h"
#include "evaluators/tensor.h"

namespace hwnas {

struct LinearWeights {
  AlignedBuffer weight;  ///< (in, out) row-major, for the reference kernels
  AlignedBuffer bias;    ///< (out)
  PackedWeights packed;  ///< weight packed for the fast kernels
  /// Re-packs after `weight` changed (e.g. a scale folded in).
  void repack(int in, int out) { packed = PackedWeights(weight.data(), in, out, out); }
};

/// Reads `name.weight` (out, in) and `name.bias` (out) (PyTorch nn.Linear) and packs them.
/// Throws hwnas::Error naming the tensor if it is missing or mis-shaped.
LinearWeights read_linear(ParamReader& r, const std::string& name, int in, int out);

}  // namespace hwnas
