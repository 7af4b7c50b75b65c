#include "evaluators/ops/packed_gemm.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include "evaluators/thread_scope.h"
#include "spaces/error.h"

namespace hwnas {

PackedWeights::PackedWeights(const float* b, int k, int n, int ldb) : k_(k), n_(n) {
  if (k < 1 || n < 1) throw Error("packed weights: k and n must be positive");
  data_ = AlignedBuffer(static_cast<std::size_t>(panels()) * k * kPanel);
  for (int p = 0; p < panels(); ++p) {
    float* dst = data_.data() + static_cast<std::size_t>(p) * k * kPanel;
    const int j0 = p * kPanel, w = std::min(kPanel, n - j0);
    for (int kk = 0; kk < k; ++kk)
      for (int j = 0; j < w; ++j) dst[static_cast<std::size_t>(kk) * kPanel + j] = b[static_cast<long>(kk) * ldb + j0 + j];
  }
}

namespace {

constexpr int kRowChunk = 256;  // rows of A kept in L2 while every panel passes over them

#if defined(__AVX512F__)
// R rows x (16 * NV) columns; `width` valid columns of the panel (tail masked).
template <int R, int NV>
void kernel(int k, const float* a, int lda, const float* bp, float* c, int ldc, int width,
            const float* bias, const float* residual, int ldr, bool relu, const float* next) {
  __m512 acc[R][NV];
  for (int i = 0; i < R; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  for (int kk = 0; kk < k; ++kk) {
    __m512 b[NV];
    for (int v = 0; v < NV; ++v) b[v] = _mm512_load_ps(bp + static_cast<std::size_t>(kk) * PackedWeights::kPanel + 16 * v);
    if (next) {
      // Pull the next panel into L2 while this one computes: in a whole-network forward the
      // weights come from DRAM (49 MB for L1), and the first row block would otherwise stall.
      _mm_prefetch(reinterpret_cast<const char*>(next + static_cast<std::size_t>(kk) * PackedWeights::kPanel), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(next + static_cast<std::size_t>(kk) * PackedWeights::kPanel + 16), _MM_HINT_T1);
    }
    for (int i = 0; i < R; ++i) {
      const __m512 av = _mm512_set1_ps(a[static_cast<long>(i) * lda + kk]);
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, b[v], acc[i][v]);
    }
  }
  __mmask16 mask[NV];
  for (int v = 0; v < NV; ++v) {
    const int left = std::clamp(width - 16 * v, 0, 16);
    mask[v] = static_cast<__mmask16>((1u << left) - 1u);
  }
  __m512 bv[NV];
  for (int v = 0; v < NV; ++v)
    bv[v] = bias ? _mm512_maskz_loadu_ps(mask[v], bias + 16 * v) : _mm512_setzero_ps();
  const __m512 zero = _mm512_setzero_ps();
  for (int i = 0; i < R; ++i)
    for (int v = 0; v < NV; ++v) {
      __m512 x = _mm512_add_ps(acc[i][v], bv[v]);
      if (relu) x = _mm512_maskz_max_ps(0xffff, x, zero);
      if (residual)
        x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask[v], residual + static_cast<long>(i) * ldr + 16 * v));
      _mm512_mask_storeu_ps(c + static_cast<long>(i) * ldc + 16 * v, mask[v], x);
    }
}

using KernelFn = void (*)(int, const float*, int, const float*, float*, int, int, const float*,
                          const float*, int, bool, const float*);

template <int NV, std::size_t... I>
constexpr auto make_table(std::index_sequence<I...>) {
  return std::array<KernelFn, sizeof...(I)>{&kernel<static_cast<int>(I) + 1, NV>...};
}
constexpr auto kTable1 = make_table<1>(std::make_index_sequence<14>{});
constexpr auto kTable2 = make_table<2>(std::make_index_sequence<14>{});
constexpr int kMaxRows = 14;
#endif

// One panel for rows [0, m) of this chunk.
void panel_rows(int m, const float* a, int lda, const PackedWeights& b, int p, float* c, int ldc,
                const GemmEpilogue& ep, bool fused_act, const float* next) {
  const int j0 = p * PackedWeights::kPanel;
  const int width = std::min(PackedWeights::kPanel, b.n() - j0);
  const float* bias = ep.bias ? ep.bias + j0 : nullptr;
  // A residual is added in registers only when no activation has to come before it.
  const float* residual = ep.residual && fused_act ? ep.residual + j0 : nullptr;
  const bool relu = ep.act == Activation::relu && fused_act;
#if defined(__AVX512F__)
  const int blocks = (m + kMaxRows - 1) / kMaxRows;
  const auto& table = width > 16 ? kTable2 : kTable1;
  int i = 0;
  for (int blk = 0; blk < blocks; ++blk) {
    // Near-equal row blocks: 49 rows run as 13+12+12+12, not 14+14+14+7.
    const int r = (m - i + (blocks - blk) - 1) / (blocks - blk);
    table[r - 1](b.k(), a + static_cast<long>(i) * lda, lda, b.panel(p), c + static_cast<long>(i) * ldc + j0,
                 ldc, width, bias, residual ? residual + static_cast<long>(i) * ep.ldr : nullptr,
                 ep.ldr, relu, next);
    i += r;
  }
#else
  (void)next;
  const float* bp = b.panel(p);
  float acc[PackedWeights::kPanel];
  for (int i = 0; i < m; ++i) {
    std::fill(acc, acc + PackedWeights::kPanel, 0.0f);
    const float* arow = a + static_cast<long>(i) * lda;
    for (int kk = 0; kk < b.k(); ++kk) {
      const float av = arow[kk];
      const float* brow = bp + static_cast<std::size_t>(kk) * PackedWeights::kPanel;
      for (int j = 0; j < PackedWeights::kPanel; ++j) acc[j] += av * brow[j];
    }
    float* crow = c + static_cast<long>(i) * ldc + j0;
    for (int j = 0; j < width; ++j) {
      float x = acc[j] + (bias ? bias[j] : 0.0f);
      if (relu) x = std::max(x, 0.0f);
      if (residual) x += residual[static_cast<long>(i) * ep.ldr + j];
      crow[j] = x;
    }
  }
#endif
}

}  // namespace

void gemm_packed_serial(int m, const float* a, int lda, const PackedWeights& b, float* c, int ldc,
                        const GemmEpilogue& ep, int p0, int p1) {
  if (p1 < 0) p1 = b.panels();
#if HWNAS_REFERENCE_KERNELS
  // Unpacking is not worth it here: the reference path never calls this (see gemm()).
#endif
  const bool fused_act = ep.act == Activation::none || ep.act == Activation::relu;
  for (int i0 = 0; i0 < m; i0 += kRowChunk) {
    const int rows = std::min(kRowChunk, m - i0);
    const float* at = a + static_cast<long>(i0) * lda;
    float* ct = c + static_cast<long>(i0) * ldc;
    GemmEpilogue e = ep;
    if (e.residual) e.residual += static_cast<long>(i0) * e.ldr;
    for (int p = p0; p < p1; ++p)
      panel_rows(rows, at, lda, b, p, ct, ldc, e, fused_act,
                 p + 1 < p1 && i0 == 0 ? b.panel(p + 1) : nullptr);
    if (!fused_act) {
      // GELU (vectorised erf) on the tile just written, still in L1/L2, then the residual.
      const int j0 = p0 * PackedWeights::kPanel;
      const int j1 = std::min(b.n(), p1 * PackedWeights::kPanel);
      for (int i = 0; i < rows; ++i) {
        float* row = ct + static_cast<long>(i) * ldc + j0;
        apply_activation(ep.act, row, static_cast<std::size_t>(j1 - j0));
        if (e.residual) {
          const float* r = e.residual + static_cast<long>(i) * e.ldr + j0;
          for (int j = 0; j < j1 - j0; ++j) row[j] += r[j];
        }
      }
    }
  }
}

void gemm_packed(int m, const float* a, int lda, const PackedWeights& b, float* c, int ldc,
                 const GemmEpilogue& ep) {
  const int threads = engine_threads();
  const int panels = b.panels();
  if (threads == 1 || 2.0 * m * b.n() * b.k() < 2e5) {
    gemm_packed_serial(m, a, lda, b, c, ldc, ep);
    return;
  }
  // Tall A: row tiles. Few rows: whole panels per thread (the threads split the weight reads),
  // unless the panels do not divide evenly (7 panels of a 224-wide layer on 2 threads) and
  // there are rows enough to split instead.
  const bool rows_split = m >= 256 * threads || panels < threads ||
                          (panels % threads != 0 && panels < 8 * threads && m >= 48 * threads);
  if (rows_split) {
    const int tiles = threads * std::max(1, m / (256 * threads));
    const int rows = (m + tiles - 1) / tiles;
    tbb::parallel_for(tbb::blocked_range<int>(0, tiles, 1), [&](const tbb::blocked_range<int>& r) {
      for (int t = r.begin(); t < r.end(); ++t) {
        const int i0 = t * rows, i1 = std::min(m, i0 + rows);
        if (i0 >= i1) continue;
        GemmEpilogue e = ep;
        if (e.residual) e.residual += static_cast<long>(i0) * e.ldr;
        gemm_packed_serial(i1 - i0, a + static_cast<long>(i0) * lda, lda, b,
                           c + static_cast<long>(i0) * ldc, ldc, e);
      }
    }, tbb::simple_partitioner());
  } else {
    // Few rows: each thread takes a contiguous run of panels (and so of the weight reads).
    const int tiles = std::min(panels, threads);
    tbb::parallel_for(tbb::blocked_range<int>(0, tiles, 1), [&](const tbb::blocked_range<int>& r) {
      for (int t = r.begin(); t < r.end(); ++t) {
        const int q0 = static_cast<int>(static_cast<long>(panels) * t / tiles);
        const int q1 = static_cast<int>(static_cast<long>(panels) * (t + 1) / tiles);
        if (q0 < q1) gemm_packed_serial(m, a, lda, b, c, ldc, ep, q0, q1);
      }
    }, tbb::simple_partitioner());
  }
}

}  // namespace hwnas
