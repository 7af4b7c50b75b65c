// The operators ElasticViT's blocks add (depthwise conv, count-include-pad average pooling,
// squeeze-excite, whole-sample LayerNorm, attention with a dense bias): each fast kernel against
// its double-precision reference on MobileNet / ViT sizes and awkward ones (1, primes, odd maps,
// one more and one less than the 16-float vector), 1 vs 2 threads, plus hand-computed values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "evaluators/ops/avg_pool_include_pad.h"
#include "evaluators/ops/biased_attention.h"
#include "evaluators/ops/depthwise_conv2d.h"
#include "evaluators/ops/sample_norm.h"
#include "evaluators/ops/squeeze_excite.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {
namespace {

void fill_uniform(float* x, std::size_t n, Rng& rng, double lo, double hi) {
  for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<float>(lo + (hi - lo) * uniform_real(rng));
}
std::vector<float> uniform_vec(std::size_t n, Rng& rng, double lo = -1, double hi = 1) {
  std::vector<float> v(n);
  fill_uniform(v.data(), n, rng, lo, hi);
  return v;
}
Tensor uniform_tensor(int n, int h, int w, int c, Rng& rng, double lo = -1, double hi = 1) {
  Tensor t(n, h, w, c);
  fill_uniform(t.data(), t.size(), rng, lo, hi);
  return t;
}
// max |a - b| / max(1, max |b|): the normalised error of a reduction-type operator.
double norm_err(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0, scale = 1;
  for (std::size_t i = 0; i < b.size(); ++i) {
    d = std::max(d, std::abs(static_cast<double>(a.data()[i]) - b.data()[i]));
    scale = std::max(scale, std::abs(static_cast<double>(b.data()[i])));
  }
  return d / scale;
}
// Runs `fast` at 1 and 2 threads and returns the worse normalised error against `ref`.
template <class F>
double worst_over_threads(const Tensor& ref, Tensor& out, F fast) {
  double worst = 0;
  for (int threads : {1, 2}) {
    ThreadScope scope(threads);
    fast(out);
    worst = std::max(worst, norm_err(out, ref));
  }
  return worst;
}

TEST(EvitOps, DepthwiseConvMatchesReference) {
  Rng rng(21);
  // (batch, h, w, c, k, stride, act): MBConv sizes (k 3/5, stride 1/2) and odd maps / widths.
  const std::tuple<int, int, int, int, int, int, Activation> cases[] = {
      {1, 64, 64, 16, 3, 1, Activation::hardswish}, {1, 64, 64, 48, 5, 2, Activation::hardswish},
      {2, 7, 7, 17, 3, 2, Activation::none},        {1, 1, 1, 15, 3, 1, Activation::relu},
      {1, 5, 9, 33, 5, 1, Activation::hardswish},   {3, 4, 4, 1, 3, 2, Activation::none},
      {1, 8, 8, 128, 3, 1, Activation::none},       {1, 13, 11, 31, 5, 2, Activation::gelu}};
  for (const auto& [n, h, w, c, k, s, act] : cases) {
    const DepthwiseConv2dParams p{c, k, s, (k - 1) / 2, act};
    const Tensor in = uniform_tensor(n, h, w, c, rng);
    const auto wt = uniform_vec(static_cast<std::size_t>(k) * k * c, rng);
    const auto b = uniform_vec(c, rng);
    const int ho = conv_out_size(h, k, s, p.pad), wo = conv_out_size(w, k, s, p.pad);
    Tensor ref(n, ho, wo, c), out(n, ho, wo, c);
    depthwise_conv2d_reference(p, in, wt.data(), b.data(), ref);
    EXPECT_LE(worst_over_threads(
                  ref, out, [&](Tensor& o) { depthwise_conv2d(p, in, wt.data(), b.data(), o); }),
              1e-6)
        << "(" << n << "," << h << "," << w << "," << c << ") k=" << k << " s=" << s;
  }
  // Hand value: 3x3 all-ones filter on a 2x2 map of ones, pad 1: every output sums 4 inputs.
  Tensor ones(1, 2, 2, 1), out(1, 2, 2, 1);
  std::fill(ones.data(), ones.data() + 4, 1.0f);
  const std::vector<float> w9(9, 1.0f);
  depthwise_conv2d({1, 3, 1, 1, Activation::none}, ones, w9.data(), nullptr, out);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(out.data()[i], 4.0f);
  Tensor bad(1, 2, 2, 2);
  EXPECT_THROW(depthwise_conv2d({1, 3, 1, 1, Activation::none}, bad, w9.data(), nullptr, out),
               Error);
  EXPECT_THROW(depthwise_conv2d({1, 3, 2, 1, Activation::none}, ones, w9.data(), nullptr, out),
               Error);
}

TEST(EvitOps, AvgPool2dCountsPaddingLikePyTorch) {
  Rng rng(22);
  for (auto [n, h, w, c] :
       {std::tuple{1, 64, 64, 16}, std::tuple{2, 7, 7, 17}, std::tuple{1, 1, 1, 3},
        std::tuple{1, 9, 9, 33}, std::tuple{1, 8, 8, 96}}) {
    const AvgPoolIncludePadParams p{c, 2, 2, w % 2};  // ElasticViT: padding 1 for odd maps
    const Tensor in = uniform_tensor(n, h, w, c, rng);
    const int ho = conv_out_size(h, 2, 2, p.pad), wo = conv_out_size(w, 2, 2, p.pad);
    EXPECT_EQ(ho, (h + 1) / 2);
    Tensor ref(n, ho, wo, c), out(n, ho, wo, c);
    avg_pool_include_pad_reference(p, in, ref);
    EXPECT_LE(worst_over_threads(ref, out, [&](Tensor& o) { avg_pool_include_pad(p, in, o); }),
              1e-6)
        << "(" << n << "," << h << "," << w << "," << c << ")";
  }
  // Hand values on a 3x3 map 1..9 with padding 1: windows start at -1, so the output corner
  // (0,0) sees only in(0,0) = 1 and still divides by 4; (1,1) averages 5, 6, 8, 9.
  Tensor in(1, 3, 3, 1), out(1, 2, 2, 1);
  for (int i = 0; i < 9; ++i) in.data()[i] = static_cast<float>(i + 1);
  avg_pool_include_pad({1, 2, 2, 1}, in, out);
  EXPECT_FLOAT_EQ(out.at(0, 0, 0, 0), 0.25f);
  EXPECT_FLOAT_EQ(out.at(0, 0, 1, 0), (2.0f + 3.0f) / 4);
  EXPECT_FLOAT_EQ(out.at(0, 1, 0, 0), (4.0f + 7.0f) / 4);
  EXPECT_FLOAT_EQ(out.at(0, 1, 1, 0), (5.0f + 6.0f + 8.0f + 9.0f) / 4);
  EXPECT_THROW(avg_pool_include_pad({1, 2, 2, 0}, in, out),
               Error);  // unpadded: 1x1 output expected
}

TEST(EvitOps, SqueezeExciteMatchesReference) {
  Rng rng(23);
  for (auto [n, h, w, c] :
       {std::tuple{1, 16, 16, 72}, std::tuple{2, 3, 5, 17}, std::tuple{1, 1, 1, 4},
        std::tuple{1, 4, 4, 1056}, std::tuple{1, 8, 8, 384}}) {
    const SqueezeExciteParams p{c, std::max(1, c / 4)};
    // Weights at the 1/sqrt(fan_in) scale of trained layers, so the gate's pre-activations are
    // O(1) and the float sums are held to the reduction tolerance.
    const double a1 = 1.0 / std::sqrt(c), a2 = 1.0 / std::sqrt(p.reduced);
    const auto w1 = uniform_vec(static_cast<std::size_t>(c) * p.reduced, rng, -a1, a1);
    const auto b1 = uniform_vec(p.reduced, rng);
    const auto w2 = uniform_vec(static_cast<std::size_t>(p.reduced) * c, rng, -a2, a2);
    const auto b2 = uniform_vec(c, rng);
    const Tensor in = uniform_tensor(n, h, w, c, rng, -2, 3);
    Tensor ref = in, out;
    squeeze_excite_reference(p, ref, w1.data(), b1.data(), w2.data(), b2.data());
    EXPECT_LE(worst_over_threads(ref, out,
                                 [&](Tensor& o) {
                                   o = in;
                                   squeeze_excite(p, o, w1.data(), b1.data(), w2.data(), b2.data());
                                 }),
              1e-5)
        << "(" << n << "," << h << "," << w << "," << c << ")";
  }
  // Hand value: c = 1, reduced = 1, identity weights, zero biases; x = {1, 3}: mean 2,
  // relu(2) = 2, hsigmoid(2) = 5/6, so x becomes {5/6, 15/6}.
  Tensor x(1, 1, 2, 1);
  x.data()[0] = 1.0f;
  x.data()[1] = 3.0f;
  const float one = 1.0f, zero = 0.0f;
  squeeze_excite({1, 1}, x, &one, &zero, &one, &zero);
  EXPECT_FLOAT_EQ(x.data()[0], 5.0f / 6.0f);
  EXPECT_FLOAT_EQ(x.data()[1], 15.0f / 6.0f);
  Tensor wrong(1, 1, 2, 2);
  EXPECT_THROW(squeeze_excite({1, 1}, wrong, &one, &zero, &one, &zero), Error);
}

TEST(EvitOps, SampleNormNormalisesTheWholeSample) {
  Rng rng(24);
  for (auto [n, h, w, c] :
       {std::tuple{1, 8, 8, 64}, std::tuple{2, 2, 2, 272}, std::tuple{1, 1, 1, 1},
        std::tuple{3, 7, 7, 17}, std::tuple{1, 16, 16, 96}}) {
    const SampleNormParams p{c, 1e-5f};
    // An offset far from zero checks that the two-pass statistics do not cancel.
    const Tensor in = uniform_tensor(n, h, w, c, rng, 50, 52);
    const auto g = uniform_vec(c, rng, 0.5, 1.5), b = uniform_vec(c, rng);
    Tensor ref(n, h, w, c), out(n, h, w, c);
    sample_norm_reference(p, in, g.data(), b.data(), ref);
    EXPECT_LE(
        worst_over_threads(ref, out, [&](Tensor& o) { sample_norm(p, in, g.data(), b.data(), o); }),
        2e-5)
        << "(" << n << "," << h << "," << w << "," << c << ")";
  }
  // Statistics run over tokens and channels together: with unit affine each sample of the
  // output has mean 0 and variance 1 overall, but a single token does not.
  const int n = 2, t = 5, c = 3;
  Tensor in = uniform_tensor(n, 1, t, c, rng, -1, 4), out(n, 1, t, c);
  const std::vector<float> ones(c, 1.0f), zeros(c, 0.0f);
  sample_norm({c, 1e-5f}, in, ones.data(), zeros.data(), out);
  for (int b = 0; b < n; ++b) {
    double mean = 0, sq = 0;
    for (int i = 0; i < t * c; ++i) mean += out.data()[b * t * c + i];
    mean /= t * c;
    for (int i = 0; i < t * c; ++i) sq += std::pow(out.data()[b * t * c + i] - mean, 2);
    EXPECT_NEAR(mean, 0.0, 1e-6);
    EXPECT_NEAR(sq / (t * c), 1.0, 1e-4);
  }
  Tensor bad(1, 1, 2, 4);
  EXPECT_THROW(sample_norm({3, 1e-5f}, bad, ones.data(), zeros.data(), bad), Error);
}

TEST(EvitOps, BiasedAttentionMatchesReference) {
  Rng rng(25);
  // (batch, heads, kd, dv, n): ElasticViT's T1..T4 at 128 and 256 px (kd 16, dv 32..64) and
  // awkward sizes.
  for (auto [b, heads, kd, dv, n] :
       {std::tuple{1, 4, 16, 32, 64}, std::tuple{1, 17, 16, 32, 4}, std::tuple{2, 3, 5, 11, 7},
        std::tuple{1, 1, 1, 1, 1}, std::tuple{1, 6, 16, 64, 256}}) {
    const BiasedAttentionParams p{heads, kd, dv, n};
    const Tensor qk = uniform_tensor(b, 1, n, p.qk_width(), rng, -3, 3);
    const Tensor v = uniform_tensor(b, 1, n, p.v_width(), rng);
    const auto bias = uniform_vec(static_cast<std::size_t>(heads) * n * n, rng, -2, 2);
    Tensor ref(b, 1, n, p.v_width()), out(b, 1, n, p.v_width());
    biased_attention_reference(p, qk, v, bias.data(), ref);
    EXPECT_LE(worst_over_threads(ref, out,
                                 [&](Tensor& o) { biased_attention(p, qk, v, bias.data(), o); }),
              1e-5)
        << "heads=" << heads << " kd=" << kd << " dv=" << dv << " n=" << n;
  }
  // Adversarial logits (q.k ~ 90..100): the softmax must not overflow.
  const BiasedAttentionParams p{1, 1, 1, 3};
  Tensor qk(1, 1, 3, 2), v(1, 1, 3, 1), out(1, 1, 3, 1);
  const float qkv[6] = {10, 9.0f, 10, 9.5f, 10, 10.0f};  // q = 10; keys 9, 9.5, 10
  std::copy(qkv, qkv + 6, qk.data());
  for (int j = 0; j < 3; ++j) v.data()[j] = static_cast<float>(j);
  const std::vector<float> bias(9, 0.0f);
  biased_attention(p, qk, v, bias.data(), out);
  // Each query sees logits 90, 95, 100: weights e^-10, e^-5, 1 (normalised) on values 0, 1, 2.
  const double e5 = std::exp(-5.0), e10 = std::exp(-10.0);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(out.data()[i], (e5 + 2) / (e10 + e5 + 1), 1e-6);
  // The bias enters per (query, key): a large bias on key 0 for query 1 only moves query 1.
  std::vector<float> b2(9, 0.0f);
  b2[1 * 3 + 0] = 40.0f;
  biased_attention(p, qk, v, b2.data(), out);
  EXPECT_NEAR(out.data()[1], 0.0, 1e-6);
  EXPECT_NEAR(out.data()[0], (e5 + 2) / (e10 + e5 + 1), 1e-6);
  Tensor wrong(1, 1, 3, 2);
  EXPECT_THROW(biased_attention(p, qk, v, bias.data(), wrong), Error);
}

}  // namespace
}  // namespace hwnas
