// GEMM with a fused epilogue on library kernels (OpenBLAS / Eigen), for products whose B is not
// a static weight. The engine's layers use packed_gemm.h (oneDNN matmul, weights reordered once
// at load), which OpenBLAS cannot match since it re-packs B on every call (bench_engine --gemm).
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

/// Library behind the fast GEMM. openblas: cblas_sgemm (one thread per call); eigen: Eigen's
/// own GEMM kernel (single-threaded). Chosen per call by gemm_route (measured, see bench/).
enum class GemmBackend { automatic, openblas, eigen };
/// Forces a backend for every fast GEMM (benchmarks); automatic restores the routing.
void set_gemm_backend(GemmBackend backend);
GemmBackend gemm_backend();

/// C[m x n] = epilogue(A[m x k] * B[k x n]), all row-major with leading dimensions lda/ldb/ldc,
/// fp32. Parallel over row or column tiles with TBB (ThreadScope decides the thread count),
/// each tile one single-threaded library GEMM followed by the epilogue.
void gemm(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
          int ldc, const GemmEpilogue& ep);
/// The same on the calling thread only (for callers that already run inside a parallel tile).
void gemm_serial(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
                 int ldc, const GemmEpilogue& ep);
/// Plain triple loop accumulating in double; the epilogue uses the reference activation.
void gemm_reference(int m, int n, int k, const float* a, int lda, const float* b, int ldb,
                    float* c, int ldc, const GemmEpilogue& ep);

}  // namespace hwnas
