// The int8 depthwise convolution on AVX2 CPUs without VNNI, in hwnas's own kernel. oneDNN 2.6's
// AVX2 int8 depthwise ("jit_uni_int8:avx2") misses the integer reference by up to 0.13 on a
// Zen 3 (2026-12-07); here u8 inputs and s8 weights are widened to s32 and multiplied there
// (vpmovzxbd, vpmulld), so every sum is exact, as the integer reference's.
#pragma once

#include <cstdint>
#include <vector>

#include "evaluators/ops/activation.h"

namespace hwnas {

/// A (k*k) x c s8 filter (row t = tap ky * k + kx, column = channel) widened to s32, the layout
/// depthwise_u8s8_rows reads.
std::vector<std::int32_t> widen_depthwise_weights(const std::vector<std::int8_t>& q);

/// Output rows [y0, y0 + rows) of one image of a depthwise k x k convolution with stride s on an
/// input already quantized to u8 and padded (padding = the zero point):
///   out(y, x, ch) = act(scale[ch] * sum_{ky,kx} in(y*s + ky, x*s + kx, ch) * w[ky*k + kx, ch]
///                       + bias[ch]).
/// in: the padded image, NHWC u8, wp columns of c channels per row; w: widen_depthwise_weights;
/// scale, bias: c floats; out: the image's output, wo columns of c fp32 per row (row y0 first).
/// Exact s32 sums. Throws hwnas::Error where int8_pairs_available() is false (int8_gemm_pairs.h).
void depthwise_u8s8_rows(const std::uint8_t* in, int wp, int c, int k, int stride,
                         const std::int32_t* w, const float* scale, const float* bias,
                         Activation act, int y0, int rows, int wo, float* out);

}  // namespace hwnas
