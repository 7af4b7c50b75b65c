// The GEMM epilogue every product of the engine fuses, and the plain reference GEMM that the fast
// kernels (packed_gemm.h: oneDNN matmul on weights reordered once at load) are tested against.
#pragma once

#include "evaluators/ops/activation.h"

namespace hwnas {

/// What to do with a product tile before it leaves the cache:
/// C = act(A*B + bias) + residual. bias has n floats (or null); residual is m x n with leading
/// dimension ldr (or null). The residual may be C itself only when act is none.
struct GemmEpilogue {
  const float* bias = nullptr;
  Activation act = Activation::none;
  const float* residual = nullptr;
  int ldr = 0;
};

/// Plain triple loop accumulating in double; the epilogue uses the reference activation.
void gemm_reference(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
                    int ldc, const GemmEpilogue& ep);

}  // namespace hwnas
