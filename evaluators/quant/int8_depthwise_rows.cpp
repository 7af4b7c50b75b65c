#include "evaluators/quant/int8_depthwise_rows.h"
#include "evaluators/ops/simd.h"  // first: see simd.h

#include "core/error.h"

namespace hwnas {

std::vector<std::int32_t> widen_depthwise_weights(const std::vector<std::int8_t>& q) {
  return {q.begin(), q.end()};
}

#if defined(__AVX2__) && defined(__FMA__)

void depthwise_u8s8_rows(const std::uint8_t* in, int wp, int c, int k, int stride,
                         const std::int32_t* w, const float* scale, const float* bias,
                         Activation act, int y0, int rows, int wo, float* out) {
  const long row_bytes = static_cast<long>(wp) * c;
  const int body = c - c % 8;
  for (int y = y0; y < y0 + rows; ++y) {
    float* const out_row = out + static_cast<long>(y - y0) * wo * c;
    for (int x = 0; x < wo; ++x) {
      const std::uint8_t* const window =
          in + static_cast<long>(y) * stride * row_bytes + static_cast<long>(x) * stride * c;
      float* const o = out_row + static_cast<long>(x) * c;
      for (int ch = 0; ch < body; ch += 8) {
        __m256i acc = _mm256_setzero_si256();
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx) {
            const std::uint8_t* a = window + ky * row_bytes + static_cast<long>(kx) * c + ch;
            const __m256i va =
                _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a)));
            const __m256i vw = _mm256_loadu_si256(
                reinterpret_cast<const __m256i*>(w + static_cast<long>(ky * k + kx) * c + ch));
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(va, vw));
          }
        _mm256_storeu_ps(o + ch,
                         _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(scale + ch),
                                         _mm256_loadu_ps(bias + ch)));
      }
      for (int ch = body; ch < c; ++ch) {
        std::int32_t acc = 0;
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx)
            acc += window[ky * row_bytes + static_cast<long>(kx) * c + ch] *
                   w[static_cast<long>(ky * k + kx) * c + ch];
        o[ch] = scale[ch] * static_cast<float>(acc) + bias[ch];
      }
    }
    if (act != Activation::none) apply_activation(act, out_row, static_cast<std::size_t>(wo) * c);
  }
}

#else

void depthwise_u8s8_rows(const std::uint8_t*, int, int, int, int, const std::int32_t*, const float*,
                         const float*, Activation, int, int, int, float*) {
  throw Error(
      "int8: this build has no AVX2 int8 kernel (built without -mavx2 -mfma); rebuild with "
      "HWNAS_NATIVE=ON on an AVX2 CPU or use --precision fp32");
}

#endif

}  // namespace hwnas
