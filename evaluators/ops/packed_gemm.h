// GEMM against weights packed once at load, with the epilogue applied in registers.
// OpenBLAS re-packs the weight matrix on every call (14% of L1's time in `sgemm_itcopy`, perf)
// and zeroes C first; packing at load removes both (the BLIS/XNNPACK approach of packing
// static weights ahead of time).
#pragma once

#include "evaluators/ops/gemm.h"
#include "evaluators/tensor.h"

namespace hwnas {

/// B (k x n, row-major) re-laid as column panels of kPackedPanel columns: panel p holds
/// B[0..k)[32p .. 32p+32) contiguously (k rows of 32 floats), zero-padded past n.
class PackedWeights {
 public:
  static constexpr int kPanel = 32;
  PackedWeights() = default;
  /// Packs b (k x n, leading dimension ldb). Throws hwnas::Error if k or n < 1.
  PackedWeights(const float* b, int k, int n, int ldb);
  int k() const { return k_; }
  int n() const { return n_; }
  int panels() const { return (n_ + kPanel - 1) / kPanel; }
  const float* panel(int p) const { return data_.data() + static_cast<std::size_t>(p) * k_ * kPanel; }

 private:
  int k_ = 0, n_ = 0;
  AlignedBuffer data_;
};

/// C[m x n] = epilogue(A[m x k] * B) on the calling thread, for output columns of panels
/// [p0, p1) only (all of them by default). A row-major with leading dimension lda; C with ldc.
/// AVX-512 micro-kernel (up to 14 rows x 32 columns of accumulators) where the build targets
/// it, a portable loop otherwise.
void gemm_packed_serial(int m, const float* a, int lda, const PackedWeights& b, float* c, int ldc,
                        const GemmEpilogue& ep, int p0 = 0, int p1 = -1);
/// The same, parallel over row tiles (tall A) or panel ranges (few rows) with TBB.
void gemm_packed(int m, const float* a, int lda, const PackedWeights& b, float* c, int ldc,
                 const GemmEpilogue& ep);

}  // namespace hwnas
