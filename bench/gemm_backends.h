// GEMM backends compared by hwnas_bench_gemm: C (m x n) = A (m x k) * B (k x n), all row-major,
// which is a 1x1 convolution on NHWC activations with the weight pre-transposed to (in, out).
#pragma once

#include <string>

namespace hwnas::bench {

struct GemmShape {
  int m = 0;
  int k = 0;
  int n = 0;
  std::string what;  // where EfficientFormer-L1 runs this shape
};

/// Eigen's product over OpenBLAS's sgemm_ (EIGEN_USE_BLAS); OpenBLAS's own thread count applies.
void gemm_eigen_blas(const GemmShape& s, const float* a, const float* b, float* c);

}  // namespace hwnas::bench
