// int8: the oneDNN int8 product against the plain integer reference on many shapes and
// epilogues, against fp32 within the quantization error, the four failure modes of PTQ on
// hybrid ViTs that calibration prevents (Q-HyViT), and whole models calibrated and run in int8.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "evaluators/engine/block_runner.h"
#include "evaluators/engine/model.h"
#include "evaluators/ops/gemm.h"
#include "evaluators/ops/packed_gemm.h"
#include "evaluators/quant/calibration.h"
#include "evaluators/quant/depthwise_speed.h"
#include "evaluators/quant/int8_depthwise.h"
#include "evaluators/quant/int8_gemm.h"
#include "evaluators/quant/quantization.h"
#include "evaluators/runtime/thread_scope.h"
#include "spaces/hiera_network.h"
#include "spaces/registry.h"
#include "tests/evaluators/golden_model.h"
#include "tests/support/skip_without_int8.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

using test::uniform_floats;

// Observes `a` (m x k) and returns the layer's quantization at `g` under `rule`.
ActivationQuant calibrate_rows(const std::vector<float>& a, int m, int k, int channels,
                               Granularity g, CalibrationRule rule = CalibrationRule::minmax,
                               double percentile = 99.99) {
  ActivationObserver seen(k, channels, 7, 256);
  seen.observe(a.data(), m, k);
  CalibrationOptions o;
  o.rule = rule;
  o.percentile = percentile;
  return choose_activation_quant(seen, g, o);
}

struct Shape {
  int m, k, n;
};

// The oneDNN int8 path (as a site on the weights, through gemm_packed at 2 threads, so row
// tiles and column panels both occur) computes what the integer reference computes: the sums
// are exact, only the fp32 epilogue's rounding differs.
TEST(Int8Gemm, MatchesIntegerReferenceOnManyShapes) {
  HWNAS_SKIP_WITHOUT_INT8();
  ThreadScope scope(2);
  const Shape shapes[] = {{1, 3, 5},     {7, 16, 64},   {64, 48, 130},  {197, 75, 24},
                          {4, 192, 448}, {300, 64, 96}, {1, 448, 1000}, {49, 27, 16}};
  const Activation acts[] = {Activation::none, Activation::gelu, Activation::hardswish,
                             Activation::relu};
  int cases = 0;
  for (const Shape& s : shapes)
    for (Activation act : acts)
      for (Granularity ag : {Granularity::per_tensor, Granularity::per_channel})
        for (int residual = 0; residual < 3; ++residual) {
          const std::uint64_t seed = 1000 + cases;
          const auto a = uniform_floats(static_cast<std::size_t>(s.m) * s.k, -1.5, 3.0, seed);
          const auto w = uniform_floats(static_cast<std::size_t>(s.k) * s.n, -0.5, 0.5, seed + 1);
          const auto bias = uniform_floats(s.n, -1, 1, seed + 2);
          const auto res = uniform_floats(static_cast<std::size_t>(s.m) * s.n, -1, 1, seed + 3);
          const ActivationQuant q = calibrate_rows(a, s.m, s.k, s.k, ag);
          const PackedWeights packed(w.data(), s.k, s.n, s.n);
          packed.attach_site(std::make_shared<Int8Gemm>(packed, q, Granularity::per_channel));
          std::vector<float> got = residual == 2 ? res : std::vector<float>(res.size(), 0.0f);
          std::vector<float> want = got;
          GemmEpilogue ep{bias.data(), act, nullptr, 0};
          if (residual == 1) ep = {bias.data(), act, res.data(), s.n};
          if (residual == 2 && act == Activation::none) ep = {nullptr, act, got.data(), s.n};
          gemm_packed(s.m, a.data(), s.k, packed, got.data(), s.n, ep);
          if (ep.residual == got.data()) ep.residual = want.data();  // in place, on its own copy
          gemm_int8_reference(s.m, a.data(), s.k, q,
                              quantize_weights(w, s.k, s.n, q, Granularity::per_channel),
                              want.data(), s.n, ep);
          double worst = 0;
          for (std::size_t i = 0; i < got.size(); ++i)
            worst = std::max(worst, std::fabs(double(got[i]) - want[i]) / (1 + std::fabs(want[i])));
          EXPECT_LT(worst, 2e-5) << s.m << "x" << s.k << "x" << s.n << " act "
                                 << static_cast<int>(act) << " " << granularity_name(ag)
                                 << " residual " << residual;
          ++cases;
        }
  EXPECT_EQ(cases, 8 * 4 * 2 * 3);
  std::cout << "oneDNN int8 implementation: " << Int8Gemm::last_implementation() << "\n";
}

// The vector quantizer against the plain formula, q = clamp(nearbyint(a / s) + z, 0, 255), on
// every width from 1 to 48 (whole 16-lane packets, a masked remainder, or both), per-channel
// scales and zero points, values on exact half steps (ties to even) and far outside the range.
TEST(Int8Quantize, ActivationsMatchThePlainFormula) {
  Rng rng(21);
  for (int k = 1; k <= 48; ++k) {
    const int m = 3, lda = k + 2;
    ActivationQuant act;
    act.granularity = Granularity::per_channel;
    for (int c = 0; c < k; ++c) {
      act.scale.push_back(static_cast<float>(0.01 + 0.1 * uniform_real(rng)));
      act.zero_point.push_back(static_cast<std::int32_t>(256 * uniform_real(rng)));
    }
    const ColumnQuant cols = expand_columns(act, k);
    std::vector<float> a(static_cast<std::size_t>(m) * lda);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < k; ++j) {
        const double u = uniform_real(rng);
        // A third on exact half steps, a third far out of range, a third ordinary.
        const double steps = u < 1.0 / 3   ? std::floor(200 * uniform_real(rng)) - 100 + 0.5
                             : u < 2.0 / 3 ? 4000 * uniform_real(rng) - 2000
                                           : 300 * uniform_real(rng) - 150;
        a[static_cast<std::size_t>(i) * lda + j] = static_cast<float>(steps) * cols.scale[j];
      }
    std::vector<std::uint8_t> q(static_cast<std::size_t>(m) * k + 16, 7);
    quantize_activations(cols, m, a.data(), lda, q.data());
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < k; ++j) {
        const float t = a[static_cast<std::size_t>(i) * lda + j] * cols.inv[j];
        const long want = std::clamp(std::lround(std::nearbyint(t)) + cols.zero[j], 0L, 255L);
        ASSERT_EQ(q[static_cast<std::size_t>(i) * k + j], want)
            << "k " << k << " (" << i << ", " << j << ") t " << t;
      }
    for (std::size_t i = static_cast<std::size_t>(m) * k; i < q.size(); ++i)
      ASSERT_EQ(q[i], 7) << "k " << k << ": wrote past the output";
  }
}

// The integer product is the fake-quant product (quantize-dequantize both operands, fp32
// GEMM), which is what the PyTorch reference computes, and stays within the quantization error
// of the fp32 product.
TEST(Int8Gemm, EqualsFakeQuantAndIsCloseToFp32) {
  const int m = 33, k = 96, n = 40;
  const auto a = uniform_floats(static_cast<std::size_t>(m) * k, -2, 2, 11);
  const auto w = uniform_floats(static_cast<std::size_t>(k) * n, -0.3, 0.3, 12);
  for (Granularity g : {Granularity::per_tensor, Granularity::per_channel}) {
    const ActivationQuant q = calibrate_rows(a, m, k, k, g);
    const QuantizedWeights qw = quantize_weights(w, k, n, q, Granularity::per_channel);
    std::vector<float> int8(static_cast<std::size_t>(m) * n), fake(int8.size()), fp32(int8.size());
    gemm_int8_reference(m, a.data(), k, q, qw, int8.data(), n, {});
    // Fake quant: a' = dequant(quant(a)); W' = diag(s) W quantized per column; a' W'/s.
    std::vector<float> fa(a.size()), fw(w.size());
    fake_quantize_activations(q, m, k, a.data(), k, fa.data());
    const ColumnQuant cols = expand_columns(q, k);
    for (int r = 0; r < k; ++r)
      for (int j = 0; j < n; ++j)
        fw[static_cast<std::size_t>(r) * n + j] =
            qw.q[static_cast<std::size_t>(r) * n + j] * qw.scale[j] / cols.scale[r];
    gemm_reference(m, n, k, fa.data(), k, fw.data(), n, fake.data(), n, {});
    gemm_reference(m, n, k, a.data(), k, w.data(), n, fp32.data(), n, {});
    double to_fake = 0, to_fp32 = 0, range = 0;
    for (std::size_t i = 0; i < int8.size(); ++i) {
      to_fake = std::max(to_fake, static_cast<double>(std::fabs(int8[i] - fake[i])));
      to_fp32 = std::max(to_fp32, static_cast<double>(std::fabs(int8[i] - fp32[i])));
      range = std::max(range, static_cast<double>(std::fabs(fp32[i])));
    }
    EXPECT_LT(to_fake, 1e-4 * range) << granularity_name(g);
    // Each of k terms carries at most half a step of a (4/255/2) times |w| <= 0.3 plus half a
    // weight step times |a| <= 2: a worst-case bound; the observed error is far below it.
    const double bound = k * (0.3 * 4.0 / 255 / 2 + 2.0 * 0.3 / 127 / 2);
    EXPECT_LT(to_fp32, bound) << granularity_name(g);
    EXPECT_GT(to_fp32, 0.0);
  }
}

// Highly dynamic ranges: a few outliers stretch a min-max range until ordinary values fall in
// one or two steps; the percentile rule clips them. The MSE rule keeps them, rightly by its own
// measure: at 8 bits one outlier's clipping error outweighs the rounding error of every inlier
// of a calibration-sized sample (16K values here).
TEST(Int8Calibration, ClippingRulesSurviveOutliers) {
  Rng rng(3);
  const int m = 256, k = 64;
  std::vector<float> a(static_cast<std::size_t>(m) * k);
  for (float& x : a) x = static_cast<float>(2 * uniform_real(rng) - 1);
  for (int i = 0; i < 6; ++i) a[static_cast<std::size_t>(i) * 997 % a.size()] = 300.0f;
  const auto error = [&](CalibrationRule rule, bool inliers) {
    const ActivationQuant q = calibrate_rows(a, m, k, k, Granularity::per_tensor, rule, 99.9);
    std::vector<float> fq(a.size());
    fake_quantize_activations(q, m, k, a.data(), k, fq.data());
    double e = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!inliers || std::fabs(a[i]) < 2) e += (fq[i] - a[i]) * (fq[i] - a[i]);
    return e / static_cast<double>(a.size());
  };
  const double minmax = error(CalibrationRule::minmax, true),
               pct = error(CalibrationRule::percentile, true);
  std::cout << "inlier MSE: minmax " << minmax << ", percentile (99.9) " << pct << "\n";
  EXPECT_LT(pct, minmax / 100);
  // The MSE rule minimises the whole sample's error: never above min-max's.
  EXPECT_LE(error(CalibrationRule::mse, false), error(CalibrationRule::minmax, false));
  EXPECT_THROW(calibrated_range({1.0f, 2.0f}, 1, 2, CalibrationRule::percentile, 20), Error);
}

// Zero-point overflow: a range wholly above zero ([2, 10], e.g. after a shift) gives the naive
// zero point round(-lo / s) = -64, outside u8, which wraps to 192 and shifts every value by
// 192 steps. The range is widened to include 0 instead: z = 0 and every value round-trips.
TEST(Int8Calibration, ZeroPointNeverLeavesTheU8Range) {
  const float lo = 2, hi = 10;
  const float naive_scale = (hi - lo) / 255;
  EXPECT_LT(std::nearbyint(-lo / naive_scale), 0.0f);  // the overflow the widening prevents
  const AffineU8 p = affine_u8(lo, hi);
  EXPECT_EQ(p.zero_point, 0);
  EXPECT_FLOAT_EQ(p.scale, 10.0f / 255);
  const AffineU8 neg = affine_u8(-9, -3);
  EXPECT_EQ(neg.zero_point, 255);
  ActivationQuant q;
  q.scale = {p.scale};
  q.zero_point = {p.zero_point};
  const auto a = uniform_floats(1000, lo, hi, 5);
  std::vector<float> fq(a.size());
  fake_quantize_activations(q, 1, 1000, a.data(), 1000, fq.data());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_LE(std::fabs(fq[i] - a[i]), p.scale / 2 + 1e-6);
  EXPECT_THROW(affine_u8(0, INFINITY), Error);
}

// Diverse normalisations: a LayerNorm's affine gains give its output channels ranges 100x apart
// (here 0.05 to 5), which one per-tensor scale crushes; after a BN-folded convolution the
// channels are alike. The per-layer choice takes per-channel for the first, per-tensor for the
// second.
TEST(Int8Calibration, GranularityFollowsTheNormalisation) {
  const int m = 256, k = 32, n = 16;
  std::vector<float> ln(static_cast<std::size_t>(m) * k), bn(ln.size());
  Rng rng(9);
  for (int i = 0; i < m; ++i)
    for (int c = 0; c < k; ++c) {
      const float z = static_cast<float>(2 * uniform_real(rng) - 1);
      ln[static_cast<std::size_t>(i) * k + c] = z * (c % 2 ? 5.0f : 0.05f);  // LN gains
      bn[static_cast<std::size_t>(i) * k + c] = z;
    }
  // The next layer's weights make up for the gains (as trained ones do), so that every channel
  // carries a like share of the output.
  const auto w = uniform_floats(static_cast<std::size_t>(k) * n, -0.5, 0.5, 10);
  std::vector<float> w_ln = w;
  for (int c = 0; c < k; ++c)
    for (int j = 0; j < n; ++j) w_ln[static_cast<std::size_t>(c) * n + j] *= c % 2 ? 1.0f : 100.0f;
  CalibrationOptions o;
  o.rule = CalibrationRule::minmax;
  for (const auto* a : {&ln, &bn}) {
    ActivationObserver seen(k, k, 1, 256);
    seen.observe(a->data(), m, k);
    const auto& wa = a == &ln ? w_ln : w;
    const double t = int8_output_error(
        seen, wa, n, choose_activation_quant(seen, Granularity::per_tensor, o), o.weights);
    const double c = int8_output_error(
        seen, wa, n, choose_activation_quant(seen, Granularity::per_channel, o), o.weights);
    std::cout << (a == &ln ? "LayerNorm-like" : "BN-like") << " output MSE: per-tensor " << t
              << ", per-channel " << c << "\n";
    if (a == &ln) {
      EXPECT_LT(c, t / 10);
    } else {
      EXPECT_GE(c, t * 0.9);  // no gain: the tie goes to per-tensor
    }
  }
}

// Few parameters: a small layer (8 -> 4) whose output channels' weights differ 100x in size. One
// scale for the whole tensor rounds the small channels to a handful of levels (or to zero);
// per-output-channel weight scales keep every channel at 127 levels.
TEST(Int8Calibration, PerChannelWeightsKeepSmallChannels) {
  const int k = 8, n = 4;
  std::vector<float> w = uniform_floats(static_cast<std::size_t>(k) * n, -1, 1, 21);
  for (int r = 0; r < k; ++r) w[static_cast<std::size_t>(r) * n + 3] *= 0.01f;
  ActivationQuant unit;
  unit.scale = {1};
  unit.zero_point = {0};
  const auto rel_error = [&](Granularity g) {
    const QuantizedWeights q = quantize_weights(w, k, n, unit, g);
    double e = 0, norm = 0;
    for (int r = 0; r < k; ++r) {
      const std::size_t at = static_cast<std::size_t>(r) * n + 3;
      e += std::pow(q.q[at] * q.scale[3] - w[at], 2);
      norm += std::pow(w[at], 2);
    }
    return std::sqrt(e / norm);
  };
  const double tensor = rel_error(Granularity::per_tensor),
               channel = rel_error(Granularity::per_channel);
  std::cout << "small channel's relative weight error: per-tensor " << tensor << ", per-channel "
            << channel << "\n";
  EXPECT_GT(tensor, 0.2);
  EXPECT_LT(channel, 0.01);
}

Tensor noise_images(const Network& net, int count, std::uint64_t seed) {
  Tensor t(count, net.input.h, net.input.w, net.input.c);
  Rng rng(seed);
  for (std::size_t i = 0; i < t.size(); ++i)
    t.data()[i] = static_cast<float>(uniform_real(rng) * 4 - 2);
  return t;
}

// Whole golden networks (timm's EfficientFormer-L1, ElasticViT T1, Hiera-S) calibrated on 16
// images run every GEMM layer in int8 and keep the fp32 model's logits to within a few
// percent of their range on the golden input; the plan survives JSON; bad input is refused.
Network member(const std::string& space_name, const std::string& name) {
  const SearchSpace& space = get_space(space_name);
  return space.decode(space.resolve(name));
}

void check_model_int8(const std::string& stem, const Network& net, double min_sqnr_db) {
  const auto& golden = test::golden_model(stem);
  Model model = Model::from_weights(net, golden.weights);
  ThreadScope scope(2);
  const Tensor fp32 = model.forward(golden.input);
  CalibrationOptions o;
  Tensor calib = noise_images(net, 16, 1);
  std::copy(golden.input.data(), golden.input.data() + golden.input.size(), calib.data());
  const QuantPlan plan = calibrate_int8(model, calib, o, 8);
  EXPECT_GT(plan.layers.size(), 10u);
  // Every depthwise layer is quantized, and the model lists them in execution order (which
  // plans written by the PyTorch reference rely on).
  ASSERT_EQ(plan.depthwise.size(), model.depthwise_layers().size());
  for (const DepthwiseLayerQuant& l : plan.depthwise) EXPECT_EQ(l.index, l.order);
  const QuantPlan back = QuantPlan::from_json(nlohmann::json::parse(plan.to_json().dump()));
  ASSERT_EQ(back.layers.size(), plan.layers.size());
  ASSERT_EQ(back.depthwise.size(), plan.depthwise.size());
  quantize_int8(model, back);
  int int8_depthwise = 0;
  for (const DepthwiseLayer& d : model.depthwise_layers())
    int8_depthwise += dynamic_cast<Int8Depthwise*>(d.site()) != nullptr;
  EXPECT_EQ(int8_depthwise, static_cast<int>(plan.depthwise.size()));
  const Tensor int8 = model.forward(golden.input);
  // Signal-to-quantization-noise ratio of the logits (dB), after removing their mean (a
  // constant shift changes no prediction).
  double mean = 0;
  for (std::size_t i = 0; i < fp32.size(); ++i) mean += fp32.data()[i];
  mean /= static_cast<double>(fp32.size());
  double signal = 0, noise = 0;
  for (std::size_t i = 0; i < fp32.size(); ++i) {
    signal += std::pow(fp32.data()[i] - mean, 2);
    noise += std::pow(int8.data()[i] - fp32.data()[i], 2);
  }
  const double sqnr = 10 * std::log10(signal / noise);
  std::cout << stem << ": " << plan.layers.size() << " int8 GEMM layers ("
            << plan.per_channel_layers() << " per-channel), " << plan.depthwise.size()
            << " int8 depthwise layers, logit SQNR " << sqnr << " dB\n";
  EXPECT_GT(noise, 0.0);
  EXPECT_GT(sqnr, min_sqnr_db);
  dequantize(model);
  const Tensor again = model.forward(golden.input);
  EXPECT_EQ(test::max_abs_diff(again.data(), fp32.data(), fp32.size()), 0.0);
  // A plan of another architecture, and too few images, are refused by name.
  QuantPlan wrong = plan;
  wrong.layers[0].k += 1;
  EXPECT_NE(test::error_of([&] { quantize_int8(model, wrong); }).find("does not exist"),
            std::string::npos);
  if (!plan.depthwise.empty()) {
    QuantPlan wrong_depthwise = plan;
    wrong_depthwise.depthwise.back().kernel += 2;
    EXPECT_NE(
        test::error_of([&] { quantize_int8(model, wrong_depthwise); }).find("depthwise layer"),
        std::string::npos);
  }
  EXPECT_NE(test::error_of([&] {
              calibrate_int8(model, noise_images(net, 4, 2), o);
            }).find("at least 16 images"),
            std::string::npos);
}

TEST(Int8Model, EfficientFormerL1) {
  HWNAS_SKIP_WITHOUT_INT8();
  check_model_int8("efficientformer_l1", member("efficientformer", "l1"), 20);
}
TEST(Int8Model, ElasticVitT1) {
  HWNAS_SKIP_WITHOUT_INT8();
  check_model_int8("elasticvit_t1", member("elasticvit", "t1"), 10);
}
TEST(Int8Model, HieraSmall) {
  HWNAS_SKIP_WITHOUT_INT8();
  std::ifstream f(test::golden_dir() + "/hiera_small.json");
  const auto arch = nlohmann::json::parse(f).at("arch");
  check_model_int8("hiera_small", hiera_network(hiera_config_from_timm(arch), "turbovit"), 20);
}

// --depthwise faster: each depthwise layer of ElasticViT-T1 is timed both ways and lands in
// exactly one list by int8_depthwise_pays. Against an independent construction (the all-int8
// plan with the layers the timing kept fp32 removed), the logits are bit-identical: the
// calibration is the same and the kept layers really run the fp32 kernel.
TEST(Int8Model, ElasticVitT1DepthwiseFaster) {
  HWNAS_SKIP_WITHOUT_INT8();
  const Network net = member("elasticvit", "t1");
  const auto& golden = test::golden_model("elasticvit_t1");
  Model model = Model::from_weights(net, golden.weights);
  ThreadScope scope(2);
  Tensor calib = noise_images(net, 16, 1);
  CalibrationOptions all_int8, faster;
  faster.depthwise = DepthwisePrecision::faster;
  const QuantPlan plan = calibrate_int8(model, calib, faster, 8);
  const std::size_t layers = model.depthwise_layers().size();
  ASSERT_EQ(plan.depthwise.size() + plan.depthwise_fp32.size(), layers);
  std::set<int> indices;
  for (const auto* list : {&plan.depthwise, &plan.depthwise_fp32})
    for (const DepthwiseLayerQuant& l : *list) {
      indices.insert(l.index);
      std::cout << "  depthwise " << l.index << " (" << l.channels << " ch, " << l.kernel << "x"
                << l.kernel << ", stride " << l.stride << "): fp32 " << l.fp32_ms << " ms, int8 "
                << l.int8_ms << " ms\n";
      EXPECT_GT(l.fp32_ms, 0.0);
      EXPECT_GT(l.int8_ms, 0.0);
      EXPECT_EQ(int8_depthwise_pays({l.fp32_ms, l.int8_ms}), list == &plan.depthwise)
          << "depthwise layer " << l.index;
    }
  EXPECT_EQ(indices.size(), layers);
  std::cout << "elasticvit t1 --depthwise faster: " << plan.depthwise.size() << " int8, "
            << plan.depthwise_fp32.size() << " kept fp32 of " << layers << "\n";

  const QuantPlan back = QuantPlan::from_json(nlohmann::json::parse(plan.to_json().dump()));
  EXPECT_EQ(back.options.depthwise, DepthwisePrecision::faster);
  ASSERT_EQ(back.depthwise_fp32.size(), plan.depthwise_fp32.size());
  ASSERT_EQ(back.depthwise.size(), plan.depthwise.size());
  for (std::size_t i = 0; i < plan.depthwise.size(); ++i)
    EXPECT_EQ(back.depthwise[i].int8_ms, plan.depthwise[i].int8_ms);
  quantize_int8(model, back);
  for (std::size_t i = 0; i < layers; ++i) {
    const bool int8 = std::any_of(plan.depthwise.begin(), plan.depthwise.end(),
                                  [&](const auto& l) { return l.index == static_cast<int>(i); });
    EXPECT_EQ(dynamic_cast<Int8Depthwise*>(model.depthwise_layers()[i].site()) != nullptr, int8);
  }
  const Tensor chosen = model.forward(golden.input);
  dequantize(model);

  QuantPlan reference = calibrate_int8(model, calib, all_int8, 8);
  std::erase_if(reference.depthwise, [&](const DepthwiseLayerQuant& l) {
    return std::none_of(plan.depthwise.begin(), plan.depthwise.end(),
                        [&](const auto& k) { return k.index == l.index; });
  });
  quantize_int8(model, reference);
  const Tensor expected = model.forward(golden.input);
  EXPECT_EQ(test::max_abs_diff(chosen.data(), expected.data(), expected.size()), 0.0);
}

TEST(Int8Plan, RejectsMalformedJson) {
  EXPECT_THROW(QuantPlan::from_json(nlohmann::json::parse(R"({"version":1})")), Error);
  EXPECT_THROW(QuantPlan::from_json(nlohmann::json::parse(R"({"version":2})")), Error);
  // A depthwise layer takes one scale and zero point (per tensor), within u8.
  const std::string base =
      R"({"version":1,"rule":"mse","percentile":99.99,"auto_granularity":true,)"
      R"("weights":"per-channel","seed":0,"images":16,"layers":[],"depthwise":[)";
  const std::string layer = R"({"order":0,"channels":8,"kernel":3,"stride":1,)";
  EXPECT_EQ(QuantPlan::from_json(
                nlohmann::json::parse(base + layer + R"("scale":[0.1],"zero_point":[3]}]})"))
                .depthwise.size(),
            1u);
  EXPECT_NE(test::error_of([&] {
              QuantPlan::from_json(nlohmann::json::parse(
                  base + layer + R"("scale":[0.1,0.2],"zero_point":[3,4]}]})"));
            }).find("per tensor"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] {
              QuantPlan::from_json(
                  nlohmann::json::parse(base + layer + R"("scale":[0.1],"zero_point":[300]}]})"));
            }).find("zero point outside"),
            std::string::npos);
  // Plans written before the precision choice carry the boolean; it still reads.
  EXPECT_EQ(QuantPlan::from_json(nlohmann::json::parse(base + R"(],"depthwise_int8":true})"))
                .options.depthwise,
            DepthwisePrecision::int8);
  EXPECT_EQ(QuantPlan::from_json(nlohmann::json::parse(base + "]}")).options.depthwise,
            DepthwisePrecision::fp32);
  EXPECT_NE(
      test::error_of([&] {
        QuantPlan::from_json(nlohmann::json::parse(base + R"(],"depthwise_precision":"fastest"})"));
      }).find("use fp32, int8 or faster"),
      std::string::npos);
  EXPECT_THROW(parse_calibration_rule("entropy"), Error);
  EXPECT_THROW(parse_granularity("per-row"), Error);
}

}  // namespace
}  // namespace hwnas

namespace hwnas {
namespace {

// A block's int8 output differs from its fp32 one, by less than 5 % of the fp32 output's range.
void expect_int8_near_fp32(const Tensor& int8, const Tensor& fp32, const std::string& key) {
  double diff = 0, range = 0;
  for (std::size_t i = 0; i < fp32.size(); ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(int8.data()[i]) - fp32.data()[i]));
    range = std::max(range, std::fabs(static_cast<double>(fp32.data()[i])));
  }
  EXPECT_GT(diff, 0.0) << key;
  EXPECT_LT(diff, 0.05 * range) << key;
}

// The latency tables' int8 variant of a block (MeasureOptions::prepare): every GEMM layer the
// block runs gets an Int8Gemm, the others none, and the block's output stays near fp32's.
TEST(Int8Timing, PreparerQuantizesEveryLayerTheBlockRuns) {
  HWNAS_SKIP_WITHOUT_INT8();
  const SearchSpace& space = get_space("efficientformer");
  const Network net = space.decode(space.resolve("l1"));
  ThreadScope scope(2);
  std::set<std::string> seen;
  int meta3d = 0;
  for (const BlockSpec& spec : net.blocks) {
    if (spec.kind != BlockKind::meta4d && spec.kind != BlockKind::meta3d) continue;
    if (!seen.insert(spec.key()).second) continue;
    meta3d += spec.kind == BlockKind::meta3d;
    BlockRunner runner(spec, 1, 3);
    runner.run();
    const Tensor fp32 = runner.output();
    int8_timing_preparer()(runner.layers(), [&] { runner.run(); });
    int int8_layers = 0;
    for (const PackedWeights& w : runner.layers().gemm)
      int8_layers += dynamic_cast<Int8Gemm*>(w.site()) != nullptr;
    EXPECT_EQ(int8_layers, spec.kind == BlockKind::meta4d ? 2 : 4) << spec.key();
    runner.run();
    expect_int8_near_fp32(runner.output(), fp32, spec.key());
  }
  EXPECT_GE(seen.size(), 5u);
  EXPECT_EQ(meta3d, 1);
}

}  // namespace
}  // namespace hwnas

namespace hwnas {
namespace {

// The same for ElasticViT T1's blocks: every depthwise layer (MBConv's, and the attention's over
// V) gets an Int8Depthwise, and each block's output stays near fp32's.
TEST(Int8Timing, PreparerQuantizesTheDepthwiseLayers) {
  HWNAS_SKIP_WITHOUT_INT8();
  const Network net = member("elasticvit", "t1");
  ThreadScope scope(2);
  std::set<std::string> seen;
  int depthwise = 0, attention = 0;
  for (const BlockSpec& spec : net.blocks) {
    if (spec.kind != BlockKind::evit_mbconv && spec.kind != BlockKind::evit_attention) continue;
    if (!seen.insert(spec.key()).second) continue;
    attention += spec.kind == BlockKind::evit_attention;
    BlockRunner runner(spec, 1, 5);
    runner.run();
    const Tensor fp32 = runner.output();
    ASSERT_EQ(runner.layers().depthwise.size(), 1u) << spec.key();
    int8_timing_preparer()(runner.layers(), [&] { runner.run(); });
    const DepthwiseLayer& d = runner.layers().depthwise[0];
    ASSERT_NE(dynamic_cast<Int8Depthwise*>(d.site()), nullptr) << spec.key();
    ++depthwise;
    runner.run();
    expect_int8_near_fp32(runner.output(), fp32, spec.key());
  }
  EXPECT_GE(depthwise, 5);
  EXPECT_GE(attention, 1);
}

}  // namespace
}  // namespace hwnas
