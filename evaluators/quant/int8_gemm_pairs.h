// The int8 product on AVX2 CPUs without VNNI, in hwnas's own kernel. oneDNN 2.6's AVX2 int8
// matmul multiplies u8 x s8 with vpmaddubsw, which adds each pair of products with 16-bit
// saturation (2 * 255 * 127 > 32767): on a Zen 3 it missed the integer reference by up to 0.34
// (2026-12-07), and no Debian library computes u8 x s8 -> fp32 with a fused epilogue exactly.
// Here both operands are widened to s16 and pairs of k are summed by vpmaddwd straight into s32
// (|2 * 255 * 127| is far from the s32 limit), so the sums are exact, as VNNI's vpdpbusd makes
// them, and the result is gemm_int8_reference's up to the fp32 epilogue's rounding. The layout
// follows XNNPACK's "c2" GEMM microkernels: k in pairs, 8 output channels per register.
#pragma once

#include <cstdint>
#include <vector>

#include "evaluators/ops/activation.h"
#include "evaluators/quant/quant_params.h"

namespace hwnas {

/// True where this build has the kernel (compiled for AVX2, as -march=native does on any CPU
/// with AVX2).
bool int8_pairs_available();

/// The s8 weights of columns [j0, j0 + n) of a QuantizedWeights, widened to s16 and laid out in
/// 16-column blocks of k pairs: block b, pair p is one cache line of 32 s16,
///   lines[b * pairs + p].v[2 * c + t] = q[2p + t, j0 + 16b + c],
/// zero beyond k or n, so that one 256-bit load gives vpmaddwd 8 columns' (k = 2p, 2p + 1).
struct PairPackedWeights {
  /// 64-byte aligned: with std::vector<int16_t>'s 16-byte alignment half of the 256-bit loads
  /// could straddle two cache lines, and the same product ran at two speeds 25 % apart.
  struct alignas(64) Line {
    std::int16_t v[32];
  };
  int k = 0, n = 0, pairs = 0, blocks = 0;
  std::vector<Line> lines;
};
/// Throws hwnas::Error if [j0, j0 + n) is not within w's columns.
PairPackedWeights pack_weight_pairs(const QuantizedWeights& w, int j0, int n);

/// c[i, j] = act(scale[j] * sum_r q[i, r] * w[r, j] + bias[j]) for i < m, j < w.n, with exact
/// s32 sums. q: m x w.k u8, dense row-major; scale, bias: w.n floats (the column range's own);
/// c: m x w.n fp32, leading dimension ldc >= w.n. On the calling thread. Throws hwnas::Error
/// where int8_pairs_available() is false.
void gemm_u8s8_pairs(int m, const std::uint8_t* q, const PairPackedWeights& w, const float* scale,
                     const float* bias, Activation act, float* c, int ldc);

}  // namespace hwnas
