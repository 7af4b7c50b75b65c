#include "evaluators/ops/gemm.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include <cblas.h>
#include "evaluators/ops/eigen.h"

#include "evaluators/parallel.h"
#include "evaluators/thread_scope.h"

namespace hwnas {

namespace {

std::atomic<GemmBackend> g_backend{GemmBackend::automatic};

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;
using MutMap = Eigen::Map<RowMat, 0, Eigen::OuterStride<>>;

[[maybe_unused]] GemmBackend route(int m, int n, int k) {
  const GemmBackend forced = g_backend.load(std::memory_order_relaxed);
  if (forced != GemmBackend::automatic) return forced;
  // bench_engine --gemm on the engine's shapes (Zen 4, one thread): OpenBLAS 60-100 GFLOP/s,
  // Eigen 50-82, except matrix-vector products (m <= 4: Eigen 41 vs 35) and tiny products.
  if (m <= 4 || static_cast<long>(m) * n * k < 16 * 1024) return GemmBackend::eigen;
  return GemmBackend::openblas;
}

[[maybe_unused]] void epilogue(int m, int n, float* c, int ldc, const GemmEpilogue& ep) {
  for (int i = 0; i < m; ++i) {
    float* row = c + static_cast<long>(i) * ldc;
    if (ep.bias)
      for (int j = 0; j < n; ++j) row[j] += ep.bias[j];
    if (ep.act != Activation::none) apply_activation(ep.act, row, static_cast<std::size_t>(n));
    if (ep.residual) {
      const float* r = ep.residual + static_cast<long>(i) * ep.ldr;
      for (int j = 0; j < n; ++j) row[j] += r[j];
    }
  }
}

}  // namespace

void set_gemm_backend(GemmBackend backend) { g_backend.store(backend); }
GemmBackend gemm_backend() { return g_backend.load(); }

void gemm_serial(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
                 int ldc, const GemmEpilogue& ep) {
#if HWNAS_REFERENCE_KERNELS
  gemm_reference(m, n, k, a, lda, b, ldb, c, ldc, ep);
#else
  if (m <= 0 || n <= 0) return;
  // A residual that is C itself (x += f(x) W) accumulates in the GEMM: beta = 1.
  const bool accumulate =
      ep.residual == c && ep.ldr == ldc && ep.act == Activation::none;
  if (route(m, n, k) == GemmBackend::openblas) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb,
                accumulate ? 1.0f : 0.0f, c, ldc);
  } else {
    MutMap cm(c, m, n, Eigen::OuterStride<>(ldc));
    const auto product = ConstMap(a, m, k, Eigen::OuterStride<>(lda)) *
                         ConstMap(b, k, n, Eigen::OuterStride<>(ldb));
    if (accumulate) cm.noalias() += product;
    else cm.noalias() = product;
  }
  GemmEpilogue rest = ep;
  if (accumulate) rest.residual = nullptr;
  epilogue(m, n, c, ldc, rest);
#endif
}

void gemm(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
          const GemmEpilogue& ep) {
#if HWNAS_REFERENCE_KERNELS
  gemm_reference(m, n, k, a, lda, b, ldb, c, ldc, ep);
#else
  const int threads = engine_threads();
  const double flops = 2.0 * m * n * k;
  if (threads == 1 || flops < 2e5) {
    gemm_serial(m, n, k, a, lda, b, ldb, c, ldc, ep);
    return;
  }
  // Many rows: equal row tiles of >= 256 rows, a multiple of the thread count (each reads all
  // of B, which stays in L2). Few rows (the 49/196-token GEMMs): column tiles, one per thread
  // (two when they stay >= 256 wide), so the threads split the weight reads; measured with
  // bench_engine --gemm, a row split of a 49-row GEMM costs 25% more work than a column split.
  if (m >= 256 * threads) {
    const int tiles = threads * std::max(1, m / (256 * threads));
    const int rows = (m + tiles - 1) / tiles;
    parallel_for(0, tiles, 1, [&](int lo, int hi) {
      for (int t = lo; t < hi; ++t) {
        const int i0 = t * rows, i1 = std::min(m, i0 + rows);
        if (i0 >= i1) continue;
        GemmEpilogue e = ep;
        if (e.residual) e.residual += static_cast<long>(i0) * e.ldr;
        gemm_serial(i1 - i0, n, k, a + static_cast<long>(i0) * lda, lda, b, ldb,
                    c + static_cast<long>(i0) * ldc, ldc, e);
      }
    });
  } else {
    int tiles = n / (2 * threads) >= 256 ? 2 * threads : threads;
    // Widths are multiples of 16 (one AVX-512 vector) and as equal as that allows.
    const int cols = ((n + tiles - 1) / tiles + 15) / 16 * 16;
    tiles = (n + cols - 1) / cols;
    parallel_for(0, tiles, 1, [&](int lo, int hi) {
      for (int t = lo; t < hi; ++t) {
        const int j0 = t * cols, j1 = std::min(n, j0 + cols);
        if (j0 >= j1) continue;
        GemmEpilogue e = ep;
        if (e.bias) e.bias += j0;
        if (e.residual) e.residual += j0;
        gemm_serial(m, j1 - j0, k, a, lda, b + j0, ldb, c + j0, ldc, e);
      }
    });
  }
#endif
}

void gemm_reference(int m, int n, int k, const float* a, int lda, const float* b, int ldb,
                    float* c, int ldc, const GemmEpilogue& ep) {
  std::vector<double> row(static_cast<std::size_t>(std::max(n, 0)));
  for (int i = 0; i < m; ++i) {
    std::fill(row.begin(), row.end(), 0.0);
    for (int p = 0; p < k; ++p) {
      const double av = a[static_cast<long>(i) * lda + p];
      const float* brow = b + static_cast<long>(p) * ldb;
      for (int j = 0; j < n; ++j) row[j] += av * brow[j];
    }
    float* crow = c + static_cast<long>(i) * ldc;
    for (int j = 0; j < n; ++j) {
      double v = row[j] + (ep.bias ? ep.bias[j] : 0.0);
      float f = static_cast<float>(v);
      apply_activation_reference(ep.act, &f, 1);
      if (ep.residual) f = static_cast<float>(static_cast<double>(f) + ep.residual[static_cast<long>(i) * ep.ldr + j]);
      crow[j] = f;
    }
  }
}

}  // namespace hwnas
