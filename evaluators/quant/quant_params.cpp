#include "evaluators/quant/quant_params.h"
#include "evaluators/ops/simd.h"  // first: see simd.h

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace hwnas {

const char* granularity_name(Granularity g) {
  return g == Granularity::per_tensor ? "per-tensor" : "per-channel";
}

Granularity parse_granularity(const std::string& name) {
  if (name == "per-tensor") return Granularity::per_tensor;
  if (name == "per-channel") return Granularity::per_channel;
  throw Error("unknown quantization granularity '" + name + "': use per-tensor or per-channel");
}

AffineU8 affine_u8(float lo, float hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi))
    throw Error(
        "int8 calibration: non-finite activation range; the calibration images produce "
        "inf or NaN activations");
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  AffineU8 r;
  if (hi - lo <= 0) return r;
  r.scale = (hi - lo) / 255.0f;
  const float z = std::nearbyint(-lo / r.scale);
  r.zero_point = static_cast<std::int32_t>(std::clamp(z, 0.0f, 255.0f));
  return r;
}

ColumnQuant expand_columns(const ActivationQuant& quant, int k) {
  if (quant.channels() < 1 || k % quant.channels() != 0 ||
      quant.zero_point.size() != quant.scale.size())
    throw Error("int8: activation quantization of " + std::to_string(quant.channels()) +
                " channels does not fit a " + std::to_string(k) + "-column operand");
  ColumnQuant c;
  c.inv.resize(k);
  c.zero.resize(k);
  c.scale.resize(k);
  for (int j = 0; j < k; ++j) {
    const int ch = j % quant.channels();
    c.scale[j] = quant.scale[ch];
    c.inv[j] = 1.0f / quant.scale[ch];
    c.zero[j] = quant.zero_point[ch];
  }
  return c;
}

void quantize_activations(const ColumnQuant& cols, int m, const float* a, int lda,
                          std::uint8_t* q) {
  const int k = cols.k();
  const float* __restrict inv = cols.inv.data();
  const std::int32_t* __restrict zero = cols.zero.data();
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
  // cvtps rounds half to even (the default MXCSR mode), as std::nearbyint; t is clamped to
  // +-300 steps first so that no conversion overflows (anything beyond saturates anyway).
  const __m512 lo = _mm512_set1_ps(-300.0f), hi = _mm512_set1_ps(300.0f);
  const __m512i q_min = _mm512_setzero_si512(), q_max = _mm512_set1_epi32(255);
  // The k % 16 last columns go through the same instructions under a mask: channel counts such
  // as 24, 40 or 27 (a 3x3 im2col of 3 channels) left a third of a row to scalar nearbyint,
  // which cost more than the vector part.
  const __mmask16 tail = static_cast<__mmask16>((1u << (k % 16)) - 1);
  const int body = k - k % 16;
  for (int i = 0; i < m; ++i) {
    const float* __restrict row = a + static_cast<long>(i) * lda;
    std::uint8_t* __restrict out = q + static_cast<long>(i) * k;
    const auto step = [&](int j, __mmask16 mask) {
      __m512 t =
          _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, row + j), _mm512_maskz_loadu_ps(mask, inv + j));
      t = _mm512_min_ps(_mm512_max_ps(t, lo), hi);
      __m512i r = _mm512_add_epi32(_mm512_cvtps_epi32(t), _mm512_maskz_loadu_epi32(mask, zero + j));
      r = _mm512_min_epi32(_mm512_max_epi32(r, q_min), q_max);
      _mm_mask_storeu_epi8(out + j, mask, _mm512_cvtepi32_epi8(r));
    };
    for (int j = 0; j < body; j += 16) step(j, static_cast<__mmask16>(0xffff));
    if (tail) step(body, tail);
  }
#else
  int body = 0;
#if defined(__AVX2__)
  // The same steps 8 lanes wide (an AVX2 CPU runs int8 on int8_gemm_pairs.h); the k % 8 last
  // columns take the scalar loop below.
  body = k - k % 8;
  const __m256 lo = _mm256_set1_ps(-300.0f), hi = _mm256_set1_ps(300.0f);
  const __m256i q_min = _mm256_setzero_si256(), q_max = _mm256_set1_epi32(255);
  for (int i = 0; i < m; ++i) {
    const float* __restrict row = a + static_cast<long>(i) * lda;
    std::uint8_t* __restrict out = q + static_cast<long>(i) * k;
    for (int j = 0; j < body; j += 8) {
      __m256 t = _mm256_mul_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(inv + j));
      t = _mm256_min_ps(_mm256_max_ps(t, lo), hi);
      __m256i r = _mm256_add_epi32(_mm256_cvtps_epi32(t),
                                   _mm256_loadu_si256(reinterpret_cast<const __m256i*>(zero + j)));
      r = _mm256_min_epi32(_mm256_max_epi32(r, q_min), q_max);
      const __m128i u16 =
          _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + j), _mm_packus_epi16(u16, u16));
    }
  }
#endif
  for (int i = 0; i < m; ++i) {
    const float* __restrict row = a + static_cast<long>(i) * lda;
    std::uint8_t* __restrict out = q + static_cast<long>(i) * k;
    for (int j = body; j < k; ++j) {
      const float t = std::min(std::max(row[j] * inv[j], -300.0f), 300.0f);
      const int v = static_cast<int>(std::nearbyint(t)) + zero[j];
      out[j] = static_cast<std::uint8_t>(std::min(std::max(v, 0), 255));
    }
  }
#endif
}

void fake_quantize_activations(const ActivationQuant& quant, int m, int k, const float* a, int lda,
                               float* out) {
  const ColumnQuant cols = expand_columns(quant, k);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < k; ++j) {
      const float z = static_cast<float>(cols.zero[j]);
      const float q = std::clamp(
          std::nearbyint(a[static_cast<long>(i) * lda + j] * cols.inv[j]) + z, 0.0f, 255.0f);
      out[static_cast<long>(i) * k + j] = (q - z) * cols.scale[j];
    }
}

QuantizedWeights quantize_weights(const std::vector<float>& w, int k, int n,
                                  const ActivationQuant& act, Granularity granularity) {
  if (k < 1 || n < 1 || w.size() != static_cast<std::size_t>(k) * n)
    throw Error("int8: weight matrix of " + std::to_string(w.size()) + " values is not " +
                std::to_string(k) + " x " + std::to_string(n));
  const ColumnQuant cols = expand_columns(act, k);
  QuantizedWeights r;
  r.k = k;
  r.n = n;
  std::vector<float> folded(w.size());
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < n; ++j)
      folded[static_cast<std::size_t>(i) * n + j] =
          w[static_cast<std::size_t>(i) * n + j] * cols.scale[i];
  std::vector<float> amax(n, 0.0f);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < n; ++j)
      amax[j] = std::max(amax[j], std::fabs(folded[static_cast<std::size_t>(i) * n + j]));
  if (granularity == Granularity::per_tensor)
    std::fill(amax.begin(), amax.end(), *std::max_element(amax.begin(), amax.end()));
  r.scale.resize(n);
  for (int j = 0; j < n; ++j) r.scale[j] = amax[j] > 0 ? amax[j] / 127.0f : 1.0f;
  r.q.resize(w.size());
  r.zero_sum.assign(n, 0);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < n; ++j) {
      const std::size_t at = static_cast<std::size_t>(i) * n + j;
      const float v = std::clamp(std::nearbyint(folded[at] * (1.0f / r.scale[j])), -127.0f, 127.0f);
      r.q[at] = static_cast<std::int8_t>(v);
      r.zero_sum[j] += cols.zero[i] * r.q[at];
    }
  return r;
}

void folded_bias(const QuantizedWeights& w, const float* bias, int j0, int n, float* out) {
  for (int j = 0; j < n; ++j)
    out[j] =
        (bias ? bias[j0 + j] : 0.0f) - w.scale[j0 + j] * static_cast<float>(w.zero_sum[j0 + j]);
}

}  // namespace hwnas
