// int8 depthwise convolution: oneDNN's int8 convolution against the plain integer reference on
// many shapes, strides, paddings and activations; the integer result against the fp32 reference
// within the quantization error bound; clear errors for what it does not take.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "evaluators/engine/tensor.h"
#include "evaluators/ops/depthwise_conv2d.h"
#include "evaluators/quant/int8_depthwise.h"
#include "evaluators/quant/int8_gemm.h"
#include "evaluators/runtime/thread_scope.h"
#include "tests/support/skip_without_int8.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

using test::uniform_floats;

Tensor tensor_of(const std::vector<float>& v, int n, int h, int w, int c) {
  Tensor t(n, h, w, c);
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

ActivationQuant per_tensor(float lo, float hi) {
  const AffineU8 a = affine_u8(lo, hi);
  ActivationQuant q;
  q.scale = {a.scale};
  q.zero_point = {a.zero_point};
  return q;
}

struct Case {
  int batch, h, w, c, kernel, stride, pad;
};

int out_size(int in, const Case& s) { return (in + 2 * s.pad - s.kernel) / s.stride + 1; }

// The oneDNN path computes the integer reference's sums exactly (the input is padded with the
// zero point, the zero point's share folded into the bias); only the fp32 epilogue's rounding
// differs, bounded relative to the largest magnitude a channel's sum can reach.
TEST(Int8Depthwise, MatchesTheIntegerReferenceOnManyShapes) {
  HWNAS_SKIP_WITHOUT_INT8();
  const Case cases[] = {{1, 1, 1, 1, 3, 1, 1},    {1, 5, 7, 7, 3, 1, 1},
                        {3, 14, 14, 16, 3, 2, 1}, {1, 17, 9, 72, 5, 1, 2},
                        {2, 32, 32, 48, 3, 2, 1}, {1, 8, 8, 100, 5, 2, 2},
                        {1, 28, 28, 96, 3, 1, 0}, {2, 7, 7, 200, 7, 1, 3}};
  const Activation acts[] = {Activation::none, Activation::relu, Activation::hardswish,
                             Activation::gelu};
  int checked = 0;
  for (const int threads : {1, 2}) {
    ThreadScope scope(threads);
    for (const Case& s : cases)
      for (const Activation act : acts) {
        const std::uint64_t seed = 500 + static_cast<std::uint64_t>(checked);
        const DepthwiseConv2dParams p{s.c, s.kernel, s.stride, s.pad, act};
        const auto in_v =
            uniform_floats(static_cast<std::size_t>(s.batch) * s.h * s.w * s.c, -0.4, 3.0, seed);
        const auto w = uniform_floats(static_cast<std::size_t>(s.kernel) * s.kernel * s.c, -0.5,
                                      0.5, seed + 1);
        const auto bias = uniform_floats(s.c, -1, 1, seed + 2);
        const Tensor in = tensor_of(in_v, s.batch, s.h, s.w, s.c);
        const ActivationQuant q = per_tensor(-0.4f, 3.0f);
        Int8Depthwise op(p, w.data(), bias.data(), q);
        Tensor got(s.batch, out_size(s.h, s), out_size(s.w, s), s.c), want = got;
        op.run(in, got);
        depthwise_conv2d_int8_reference(p, in, q, op.weights(), bias.data(), want);
        double worst = 0;
        for (std::size_t i = 0; i < got.size(); ++i) {
          const int ch = static_cast<int>(i % static_cast<std::size_t>(s.c));
          double reach = 0;  // the largest |sum| channel ch can reach: 255 * sum |q_w|
          for (int t = 0; t < s.kernel * s.kernel; ++t)
            reach += std::abs(op.weights().q[static_cast<std::size_t>(t) * s.c + ch]);
          reach *= 255.0 * op.weights().scale[ch];
          worst = std::max(worst, std::fabs(double(got.data()[i]) - want.data()[i]) /
                                      (1 + reach + std::fabs(bias[ch])));
        }
        EXPECT_LT(worst, 1e-6) << s.batch << "x" << s.h << "x" << s.w << "x" << s.c << " k"
                               << s.kernel << " s" << s.stride << " pad " << s.pad << " act "
                               << static_cast<int>(act) << " threads " << threads;
        ++checked;
      }
  }
  EXPECT_EQ(checked, 2 * 8 * 4);
  std::cout << "oneDNN int8 depthwise implementation: " << Int8Depthwise::last_implementation()
            << "\n";
}

// Against the fp32 reference (double accumulation), with no activation: each tap's product
// a * w is off by at most |a| e_w + |w| e_a + e_a e_w, where e_a = s_a / 2 is the activation's
// rounding and e_w = s_w[c] / (2 s_a) the weight's (its scale has s_a folded in); the sum over
// the window bounds each output. Every input lies inside the calibrated range, so nothing clamps.
TEST(Int8Depthwise, StaysWithinTheQuantizationErrorOfFp32) {
  HWNAS_SKIP_WITHOUT_INT8();
  const Case s{2, 13, 11, 24, 3, 2, 1};
  const DepthwiseConv2dParams p{s.c, s.kernel, s.stride, s.pad, Activation::none};
  const auto in_v =
      uniform_floats(static_cast<std::size_t>(s.batch) * s.h * s.w * s.c, -1.0, 2.0, 71);
  const auto w = uniform_floats(static_cast<std::size_t>(s.kernel) * s.kernel * s.c, -0.6, 0.6, 72);
  const auto bias = uniform_floats(s.c, -1, 1, 73);
  const Tensor in = tensor_of(in_v, s.batch, s.h, s.w, s.c);
  const ActivationQuant q = per_tensor(-1.0f, 2.0f);
  Int8Depthwise op(p, w.data(), bias.data(), q);
  Tensor got(s.batch, out_size(s.h, s), out_size(s.w, s), s.c), fp32 = got;
  op.run(in, got);
  depthwise_conv2d_reference(p, in, w.data(), bias.data(), fp32);
  const double ea = q.scale[0] / 2.0;
  int over = 0;
  double worst_ratio = 0, mean_err = 0;
  for (int b = 0; b < got.n(); ++b)
    for (int oy = 0; oy < got.h(); ++oy)
      for (int ox = 0; ox < got.w(); ++ox)
        for (int ch = 0; ch < s.c; ++ch) {
          const double ew = op.weights().scale[ch] / (2.0 * q.scale[0]);
          double bound = 1e-5;
          for (int ky = 0; ky < s.kernel; ++ky)
            for (int kx = 0; kx < s.kernel; ++kx) {
              const int iy = oy * s.stride - s.pad + ky, ix = ox * s.stride - s.pad + kx;
              if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
              const double a = std::fabs(in.at(b, iy, ix, ch));
              const double wt =
                  std::fabs(w[static_cast<std::size_t>(ky * s.kernel + kx) * s.c + ch]);
              bound += a * ew + wt * ea + ea * ew;
            }
          const double err = std::fabs(double(got.at(b, oy, ox, ch)) - fp32.at(b, oy, ox, ch));
          over += err > bound;
          worst_ratio = std::max(worst_ratio, err / bound);
          mean_err += err;
        }
  EXPECT_EQ(over, 0) << "worst error / bound " << worst_ratio;
  // Not vacuous: the quantization error is there, and it is a sizeable share of the bound.
  EXPECT_GT(mean_err / static_cast<double>(got.size()), 1e-4);
  EXPECT_GT(worst_ratio, 0.1);
}

TEST(Int8Depthwise, RefusesPerChannelActivationsAndMismatchedWeights) {
  HWNAS_SKIP_WITHOUT_INT8();
  const DepthwiseConv2dParams p{4, 3, 1, 1, Activation::none};
  const std::vector<float> w(36, 0.1f);
  ActivationQuant q;
  q.granularity = Granularity::per_channel;
  q.scale = {0.1f, 0.1f, 0.1f, 0.1f};
  q.zero_point = {3, 3, 3, 3};
  EXPECT_THROW(
      {
        try {
          Int8Depthwise(p, w.data(), nullptr, q);
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("per tensor"), std::string::npos) << e.what();
          throw;
        }
      },
      Error);
  const ActivationQuant one = per_tensor(-1, 1);
  Int8Depthwise op(p, w.data(), nullptr, one);
  const Tensor in(1, 5, 5, 4);
  Tensor wrong(1, 5, 5, 3);  // channels differ from the layer's
  EXPECT_THROW(op.run(in, wrong), Error);
  QuantizedWeights other = op.weights();
  other.k = 25;  // a 5x5 filter's rows for a 3x3 layer
  Tensor out(1, 5, 5, 4);
  EXPECT_THROW(depthwise_conv2d_int8_reference(p, in, one, other, nullptr, out), Error);
}

}  // namespace
}  // namespace hwnas
