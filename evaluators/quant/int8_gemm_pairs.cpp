#include "evaluators/quant/int8_gemm_pairs.h"
#include "evaluators/ops/simd.h"  // first: see simd.h

#include <algorithm>
#include <cstring>
#include <string>

#include "core/error.h"

namespace hwnas {

namespace {

constexpr int kBlock = 16;  // output columns per block: two registers of 8 s32

}  // namespace

PairPackedWeights pack_weight_pairs(const QuantizedWeights& w, int j0, int n) {
  if (j0 < 0 || n < 1 || j0 + n > w.n)
    throw Error("int8: column range [" + std::to_string(j0) + ", " + std::to_string(j0 + n) +
                ") is not within the " + std::to_string(w.n) + " weight columns");
  PairPackedWeights r;
  r.k = w.k;
  r.n = n;
  r.pairs = (w.k + 1) / 2;
  r.blocks = (n + kBlock - 1) / kBlock;
  r.lines.assign(static_cast<std::size_t>(r.blocks) * r.pairs, PairPackedWeights::Line{});
  for (int row = 0; row < w.k; ++row)
    for (int j = 0; j < n; ++j) {
      const int b = j / kBlock, col = j % kBlock, p = row / 2, t = row % 2;
      r.lines[static_cast<std::size_t>(b) * r.pairs + p].v[2 * col + t] =
          w.q[static_cast<std::size_t>(row) * w.n + j0 + j];
    }
  return r;
}

#if defined(__AVX2__) && defined(__FMA__)

bool int8_pairs_available() { return true; }

namespace {

// MR rows x 16 columns over all k pairs. a: MR rows of `pairs` s32, each two u8 widened to s16
// (the even k in the low half, as vpmaddwd pairs it with the even weight). The accumulators are
// named, not an array: GCC 12 kept an array's in registers but copied each one once per pair
// (8 vmovdqa per 16 vpmaddwd / vpaddd, perf annotate on the Zen 3).
template <int MR>
void tile(const std::int32_t* a, int pairs, const PairPackedWeights::Line* w, const float* scale,
          const float* bias, float* c, int ldc, int cols) {
  static_assert(MR >= 1 && MR <= 4);
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
          c30 = c00, c31 = c00;
  const std::int32_t* const a0 = a;
  const std::int32_t* const a1 = a + (MR > 1 ? pairs : 0);
  const std::int32_t* const a2 = a + (MR > 2 ? 2 * pairs : 0);
  const std::int32_t* const a3 = a + (MR > 3 ? 3 * pairs : 0);
  for (int p = 0; p < pairs; ++p) {
    const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w[p].v));
    const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w[p].v + 16));
    const auto row = [&](const std::int32_t* ar, __m256i& lo, __m256i& hi) {
      const __m256i x = _mm256_set1_epi32(ar[p]);
      lo = _mm256_add_epi32(lo, _mm256_madd_epi16(x, w0));
      hi = _mm256_add_epi32(hi, _mm256_madd_epi16(x, w1));
    };
    row(a0, c00, c01);
    if constexpr (MR > 1) row(a1, c10, c11);
    if constexpr (MR > 2) row(a2, c20, c21);
    if constexpr (MR > 3) row(a3, c30, c31);
  }
  const __m256i acc[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
  const __m256 s0 = _mm256_loadu_ps(scale), s1 = _mm256_loadu_ps(scale + 8);
  const __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
  for (int r = 0; r < MR; ++r) {
    const __m256 lo = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[r][0]), s0, b0);
    const __m256 hi = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[r][1]), s1, b1);
    float* out = c + static_cast<long>(r) * ldc;
    if (cols == kBlock) {
      _mm256_storeu_ps(out, lo);
      _mm256_storeu_ps(out + 8, hi);
    } else {
      alignas(32) float row[kBlock];
      _mm256_store_ps(row, lo);
      _mm256_store_ps(row + 8, hi);
      std::memcpy(out, row, sizeof(float) * static_cast<std::size_t>(cols));
    }
  }
}

}  // namespace

void gemm_u8s8_pairs(int m, const std::uint8_t* q, const PairPackedWeights& w, const float* scale,
                     const float* bias, Activation act, float* c, int ldc) {
  if (m < 1) return;
  const int k = w.k, pairs = w.pairs, n = w.n;
  // Per-thread buffers: the widened rows, and scale / bias padded to whole blocks so that the
  // epilogue loads 16 columns of any block. Column blocks outside, rows inside: a block's
  // weights stay in L1 while the rows stream by (rows in L1-sized chunks, each against every
  // block, was 5-25 % slower on the Zen 3: the weights came back from L2 per chunk).
  thread_local std::vector<std::int32_t> wide;
  thread_local std::vector<float> padded;
  if (wide.size() < static_cast<std::size_t>(m) * pairs)
    wide.resize(static_cast<std::size_t>(m) * pairs);
  auto* const wide16 = reinterpret_cast<std::int16_t*>(wide.data());
  for (int i = 0; i < m; ++i) {
    const std::uint8_t* src = q + static_cast<long>(i) * k;
    std::int16_t* dst = wide16 + static_cast<long>(i) * 2 * pairs;
    int r = 0;
    for (; r + 16 <= k; r += 16)
      _mm256_storeu_si256(
          reinterpret_cast<__m256i*>(dst + r),
          _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + r))));
    for (; r < k; ++r) dst[r] = src[r];
    if (k % 2) dst[k] = 0;  // the odd k's pair partner (its weight is 0 too)
  }
  const int width = w.blocks * kBlock;
  padded.assign(2 * static_cast<std::size_t>(width), 0.0f);
  std::copy(scale, scale + n, padded.begin());
  std::copy(bias, bias + n, padded.begin() + width);
  const auto at = [&](int row) { return wide.data() + static_cast<long>(row) * pairs; };
  for (int b = 0; b < w.blocks; ++b) {
    const PairPackedWeights::Line* wb = w.lines.data() + static_cast<std::size_t>(b) * pairs;
    const int j = b * kBlock, cols = std::min(kBlock, n - j);
    const float* s = padded.data() + j;
    const float* bb = padded.data() + width + j;
    const auto out = [&](int row) { return c + static_cast<long>(row) * ldc + j; };
    int i = 0;
    for (; i + 4 <= m; i += 4) tile<4>(at(i), pairs, wb, s, bb, out(i), ldc, cols);
    switch (m - i) {
      case 3:
        tile<3>(at(i), pairs, wb, s, bb, out(i), ldc, cols);
        break;
      case 2:
        tile<2>(at(i), pairs, wb, s, bb, out(i), ldc, cols);
        break;
      case 1:
        tile<1>(at(i), pairs, wb, s, bb, out(i), ldc, cols);
        break;
      default:
        break;
    }
  }
  if (act != Activation::none)
    for (int i = 0; i < m; ++i) apply_activation(act, c + static_cast<long>(i) * ldc, n);
}

#else

bool int8_pairs_available() { return false; }

void gemm_u8s8_pairs(int, const std::uint8_t*, const PairPackedWeights&, const float*, const float*,
                     Activation, float*, int) {
  throw Error(
      "int8: this build has no AVX2 int8 kernel (built without -mavx2 -mfma); rebuild with "
      "HWNAS_NATIVE=ON on an AVX2 CPU or use --precision fp32");
}

#endif

}  // namespace hwnas
