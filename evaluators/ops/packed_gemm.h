// GEMM against weights prepared once at load, with the epilogue fused, on oneDNN's matmul.
// GEMM is not what hwnas exists for, so it runs on a library: oneDNN reorders static weights
// into its preferred blocked layout once (OpenBLAS re-packs them on every call) and fuses bias,
// ReLU/GELU and the residual as post-ops. hwnas keeps the tiling and threading across operators.
#pragma once

#include <memory>
#include <vector>

#include "evaluators/ops/gemm.h"

namespace hwnas {

class PackedWeights;

/// Where a product on some weights runs instead of the fp32 GEMM: quantized execution
/// (evaluators/quant/) attaches one to each layer's weights. Called from concurrent TBB tiles.
class GemmSite {
 public:
  virtual ~GemmSite() = default;
  /// Computes what gemm_packed_serial is asked for (same arguments, p1 resolved, m > 0) and
  /// returns true, or returns false to let the fp32 GEMM run (after observing `a`, when
  /// calibrating).
  virtual bool run(int m, const float* a, int lda, const PackedWeights& b, float* c, int ldc,
                   const GemmEpilogue& ep, int p0, int p1) = 0;
};

/// B (k x n, row-major fp32) reordered once into oneDNN's preferred matmul layout (on AVX-512:
/// 16 x 64 blocks, 64-column panels stored one after another). Immutable after construction;
/// copies share the reordered data.
class PackedWeights {
 public:
  PackedWeights() = default;
  /// Reorders b (k x n, leading dimension ldb >= n). row_period > 0 says the k rows are taps of
  /// row_period input channels each (an im2col operand, row r reads channel r % row_period),
  /// so that per-channel activation quantization shares one scale per channel across taps.
  /// Throws hwnas::Error if k or n < 1, if ldb < n, if row_period does not divide k, or if
  /// oneDNN fails. Inside a LayerLog's scope (layer_log.h) the new weights are also logged there.
  PackedWeights(const float* b, int k, int n, int ldb, int row_period = 0);
  int k() const { return k_; }
  int n() const { return n_; }
  int row_period() const { return row_period_; }
  /// The weights back as a plain k x n row-major matrix (a oneDNN reorder).
  std::vector<float> unpack() const;
  /// Routes every later product on these weights (and their copies) to `site` (null: back to
  /// fp32). Not thread-safe against products running on them. Throws hwnas::Error on empty
  /// weights.
  void attach_site(std::shared_ptr<GemmSite> site) const;
  GemmSite* site() const;
  /// Output columns per panel: the unit of the column ranges of gemm_packed_serial (oneDNN's
  /// column block, 64 on AVX-512; n itself when the layout cannot be split by columns).
  int panel_width() const { return panel_; }
  int panels() const { return panel_ ? (n_ + panel_ - 1) / panel_ : 0; }

  struct Impl;  ///< oneDNN memory descriptor and data (packed_gemm.cpp)
  const Impl& impl() const { return *impl_; }

 private:
  int k_ = 0, n_ = 0, panel_ = 0, row_period_ = 0;
  std::shared_ptr<const Impl> impl_;
};

/// C[m x n] = epilogue(A[m x k] * B) on the calling thread (oneDNN limited to one thread), for
/// the output columns of panels [p0, p1) only (all of them by default). A row-major with leading
/// dimension lda >= k; C with ldc >= n; epilogue as GemmEpilogue, whose residual may be C itself
/// with any activation (a sum post-op). Thread-safe: TBB tiles call it concurrently. m = 0 does
/// nothing.
/// Throws hwnas::Error if B is empty, the panel range is invalid or oneDNN fails.
void gemm_packed_serial(int m, const float* a, int lda, const PackedWeights& b, float* c, int ldc,
                        const GemmEpilogue& ep, int p0 = 0, int p1 = -1);
/// The same, parallel over row tiles (tall A) or panel ranges (few rows) with TBB, at the
/// ThreadScope's thread count.
void gemm_packed(int m, const float* a, int lda, const PackedWeights& b, float* c, int ldc,
                 const GemmEpilogue& ep);

}  // namespace hwnas
