// hwnas's own AVX2 int8 kernels (the GEMM's s16 pairs, the depthwise rows' s32 products), run
// directly on every AVX2 CPU, VNNI or not, against plain exact integer sums on many shapes and on
// the operands that make 16-bit pair sums saturate, the failure they exist to prevent.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "evaluators/ops/activation.h"
#include "evaluators/quant/int8_depthwise_rows.h"
#include "evaluators/quant/int8_gemm_pairs.h"
#include "tests/support/skip_without_int8.h"

namespace hwnas {
namespace {

std::vector<std::uint8_t> random_u8(std::size_t n, Rng& rng) {
  std::vector<std::uint8_t> v(n);
  for (auto& x : v) x = static_cast<std::uint8_t>(uniform_int(rng, 0, 255));
  return v;
}

QuantizedWeights random_weights(int k, int n, Rng& rng) {
  QuantizedWeights w;
  w.k = k;
  w.n = n;
  w.q.resize(static_cast<std::size_t>(k) * n);
  for (auto& x : w.q) x = static_cast<std::int8_t>(uniform_int(rng, -127, 127));
  w.scale.assign(n, 1.0f);
  w.zero_sum.assign(n, 0);
  return w;
}

// A column's dequantization scale (about what a layer's scales are) and bias, for n columns.
struct Epilogue {
  std::vector<float> scale, bias;
};
Epilogue random_epilogue(int n, Rng& rng) {
  Epilogue e;
  for (int j = 0; j < n; ++j) {
    e.scale.push_back(static_cast<float>(1e-5 + 1e-4 * uniform_real(rng)));
    e.bias.push_back(static_cast<float>(2 * uniform_real(rng) - 1));
  }
  return e;
}

// act(scale * acc + bias) in double from an exact int64 sum, then the activation's reference.
float expected(std::int64_t acc, float scale, float bias, Activation act) {
  float v = static_cast<float>(static_cast<double>(scale) * static_cast<double>(acc) + bias);
  apply_activation_reference(act, &v, 1);
  return v;
}

// |got - want| / (1 + |want|): fp32 rounding of acc (up to 2^25 here) and of the epilogue only.
constexpr double kTolerance = 2e-6;

struct GemmCase {
  int m, k, n, j0, n_range;
};

TEST(Int8PairKernel, MatchesExactIntegerSumsOnManyShapes) {
  HWNAS_SKIP_WITHOUT_INT8_PAIRS();
  Rng rng(20261207);
  // Row counts across the 4-row tile and its 1-3 remainders, odd k (a padded pair), k across
  // the 16-wide widening, column ranges that start inside the matrix and end in a partial block.
  const GemmCase cases[] = {{1, 1, 1, 0, 1},       {2, 2, 7, 0, 7},       {3, 3, 16, 0, 16},
                            {4, 15, 17, 0, 17},    {5, 16, 33, 0, 33},    {7, 17, 40, 8, 24},
                            {13, 31, 100, 64, 36}, {64, 48, 130, 0, 130}, {9, 255, 64, 16, 48},
                            {6, 1000, 24, 0, 24},  {197, 27, 48, 0, 48},  {1, 3072, 10, 0, 10},
                            {8, 768, 200, 128, 72}};
  const Activation acts[] = {Activation::none, Activation::relu, Activation::gelu,
                             Activation::hardswish};
  int checked = 0;
  for (const GemmCase& s : cases)
    for (const Activation act : acts) {
      const auto q = random_u8(static_cast<std::size_t>(s.m) * s.k, rng);
      const QuantizedWeights w = random_weights(s.k, s.n, rng);
      const auto [scale, bias] = random_epilogue(s.n_range, rng);
      const PairPackedWeights packed = pack_weight_pairs(w, s.j0, s.n_range);
      const int ldc = s.n_range + 3;  // the 3 columns past each row must stay untouched
      std::vector<float> c(static_cast<std::size_t>(s.m) * ldc, -7.0f);
      gemm_u8s8_pairs(s.m, q.data(), packed, scale.data(), bias.data(), act, c.data(), ldc);
      double worst = 0;
      for (int i = 0; i < s.m; ++i) {
        for (int j = 0; j < s.n_range; ++j) {
          std::int64_t acc = 0;
          for (int r = 0; r < s.k; ++r)
            acc += static_cast<std::int64_t>(q[static_cast<std::size_t>(i) * s.k + r]) *
                   w.q[static_cast<std::size_t>(r) * s.n + s.j0 + j];
          const float want = expected(acc, scale[j], bias[j], act);
          worst =
              std::max(worst, std::fabs(double(c[static_cast<std::size_t>(i) * ldc + j]) - want) /
                                  (1 + std::fabs(want)));
        }
        for (int j = s.n_range; j < ldc; ++j)
          ASSERT_EQ(c[static_cast<std::size_t>(i) * ldc + j], -7.0f)
              << s.m << "x" << s.k << "x" << s.n_range << ": wrote past column " << s.n_range;
      }
      EXPECT_LT(worst, kTolerance) << s.m << "x" << s.k << "x" << s.n_range << " from column "
                                   << s.j0 << " act " << activation_name(act);
      ++checked;
    }
  EXPECT_EQ(checked, 13 * 4);
}

// u8 255 against s8 +-127 everywhere: each pair of products is +-64770, which a 16-bit
// saturating pair sum (vpmaddubsw, oneDNN's AVX2 int8) clamps to +-32767, halving the result.
// The pair kernel's sums stay exact up to k = 4096 (|acc| = 132 million).
TEST(Int8PairKernel, WorstCaseOperandsDoNotSaturate) {
  HWNAS_SKIP_WITHOUT_INT8_PAIRS();
  const int m = 3, k = 4096, n = 18;
  const std::vector<std::uint8_t> q(static_cast<std::size_t>(m) * k, 255);
  QuantizedWeights w;
  w.k = k;
  w.n = n;
  w.q.resize(static_cast<std::size_t>(k) * n);
  for (int r = 0; r < k; ++r)
    for (int j = 0; j < n; ++j)
      w.q[static_cast<std::size_t>(r) * n + j] = static_cast<std::int8_t>(j % 2 ? -127 : 127);
  const std::vector<float> scale(n, 1.0f), bias(n, 0.0f);
  std::vector<float> c(static_cast<std::size_t>(m) * n);
  gemm_u8s8_pairs(m, q.data(), pack_weight_pairs(w, 0, n), scale.data(), bias.data(),
                  Activation::none, c.data(), n);
  const double exact = 255.0 * 127.0 * k;
  const double saturated = 32767.0 * (k / 2);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j)
      EXPECT_EQ(c[static_cast<std::size_t>(i) * n + j], static_cast<float>(j % 2 ? -exact : exact))
          << "row " << i << " column " << j << " (16-bit saturation would give "
          << (j % 2 ? -saturated : saturated) << ")";
}

TEST(Int8PairKernel, ARangeOutsideTheColumnsIsAnError) {
  Rng rng(3);
  const QuantizedWeights w = random_weights(4, 10, rng);
  EXPECT_THROW(pack_weight_pairs(w, 4, 7), Error);
  EXPECT_THROW(pack_weight_pairs(w, -1, 3), Error);
  EXPECT_THROW(pack_weight_pairs(w, 0, 0), Error);
}

struct DepthwiseCase {
  int h, w, c, kernel, stride;
};

// Rows of a padded u8 image (values anywhere in 0..255, as the zero point's padding is) against
// exact sums, on channel counts across the 8-lane body and its scalar remainder, for every row
// range split of the output.
TEST(Int8DepthwiseRows, MatchExactIntegerSumsOnManyShapes) {
  HWNAS_SKIP_WITHOUT_INT8_PAIRS();
  Rng rng(1207);
  const DepthwiseCase cases[] = {{3, 3, 1, 3, 1},    {7, 9, 7, 3, 1},     {9, 9, 8, 3, 2},
                                 {12, 10, 24, 5, 1}, {15, 15, 100, 5, 2}, {13, 11, 200, 7, 1},
                                 {6, 6, 17, 3, 2}};
  int checked = 0;
  for (const DepthwiseCase& s : cases)
    for (const Activation act : {Activation::none, Activation::hardswish}) {
      const int ho = (s.h - s.kernel) / s.stride + 1, wo = (s.w - s.kernel) / s.stride + 1;
      const auto in = random_u8(static_cast<std::size_t>(s.h) * s.w * s.c, rng);
      const QuantizedWeights w = random_weights(s.kernel * s.kernel, s.c, rng);
      const auto [scale, bias] = random_epilogue(s.c, rng);
      const auto wide = widen_depthwise_weights(w.q);
      std::vector<float> out(static_cast<std::size_t>(ho) * wo * s.c, -7.0f);
      // Two row ranges, as Int8Depthwise's slabs split an image.
      const int split = ho / 2;
      depthwise_u8s8_rows(in.data(), s.w, s.c, s.kernel, s.stride, wide.data(), scale.data(),
                          bias.data(), act, 0, split, wo, out.data());
      depthwise_u8s8_rows(in.data(), s.w, s.c, s.kernel, s.stride, wide.data(), scale.data(),
                          bias.data(), act, split, ho - split, wo,
                          out.data() + static_cast<std::size_t>(split) * wo * s.c);
      double worst = 0;
      for (int y = 0; y < ho; ++y)
        for (int x = 0; x < wo; ++x)
          for (int ch = 0; ch < s.c; ++ch) {
            std::int64_t acc = 0;
            for (int ky = 0; ky < s.kernel; ++ky)
              for (int kx = 0; kx < s.kernel; ++kx)
                acc +=
                    static_cast<std::int64_t>(
                        in[(static_cast<std::size_t>(y * s.stride + ky) * s.w + x * s.stride + kx) *
                               s.c +
                           ch]) *
                    w.q[static_cast<std::size_t>(ky * s.kernel + kx) * s.c + ch];
            const float want = expected(acc, scale[ch], bias[ch], act);
            worst = std::max(
                worst,
                std::fabs(double(out[(static_cast<std::size_t>(y) * wo + x) * s.c + ch]) - want) /
                    (1 + std::fabs(want)));
          }
      EXPECT_LT(worst, kTolerance) << s.h << "x" << s.w << "x" << s.c << " k" << s.kernel << " s"
                                   << s.stride << " act " << activation_name(act);
      ++checked;
    }
  EXPECT_EQ(checked, 7 * 2);
}

}  // namespace
}  // namespace hwnas
