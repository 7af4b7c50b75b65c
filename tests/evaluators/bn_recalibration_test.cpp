// BN recalibration: the training-mode BN op on a hand-computed case, the first two BatchNorms of
// a subnet recalibrated against a by-hand computation (plain loops), and the stats cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "evaluators/accuracy/bn_recalibration.h"
#include "evaluators/accuracy/bn_stats_cache.h"
#include "evaluators/engine/model.h"
#include "evaluators/ops/batch_norm.h"
#include "evaluators/ops/conv2d.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "spaces/registry.h"
#include "tests/evaluators/random_supernet.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

TEST(BatchNormTrain, HandComputedCase) {
  // Two channels over N*H*W = 4 values: channel 0 = 1, 2, 3, 4 (mean 2.5, biased var 1.25,
  // unbiased 5/3); channel 1 = 2, 2, 2, 6 (mean 3, biased var 3, unbiased 4).
  Tensor x(2, 1, 2, 2);
  const float v[] = {1, 2, 2, 2, 3, 2, 4, 6};
  std::copy(v, v + 8, x.data());
  const float gamma[] = {2, 1}, beta[] = {0.5f, -1};
  Tensor y(2, 1, 2, 2);
  const BatchStats s = batch_norm_train(x, gamma, beta, 0.0f, y);
  EXPECT_DOUBLE_EQ(s.mean[0], 2.5);
  EXPECT_DOUBLE_EQ(s.mean[1], 3.0);
  EXPECT_NEAR(s.var_unbiased[0], 5.0 / 3.0, 1e-12);
  EXPECT_NEAR(s.var_unbiased[1], 4.0, 1e-12);
  // y = (x - mean) / sqrt(biased var) * gamma + beta.
  EXPECT_NEAR(y.data()[0], (1 - 2.5) / std::sqrt(1.25) * 2 + 0.5, 1e-6);
  EXPECT_NEAR(y.data()[7], (6 - 3.0) / std::sqrt(3.0) * 1 - 1, 1e-6);
  Tensor one(1, 1, 1, 2);
  EXPECT_THROW(batch_norm_train(one, gamma, beta, 1e-5f, one), Error);
}

// Per-channel mean and unbiased variance of an NHWC tensor, in double.
void stats(const Tensor& t, std::vector<double>& mean, std::vector<double>& var) {
  const int c = t.c();
  const std::size_t n = t.size() / c;
  mean.assign(c, 0);
  var.assign(c, 0);
  for (std::size_t r = 0; r < n; ++r)
    for (int ch = 0; ch < c; ++ch) mean[ch] += t.data()[r * c + ch] / static_cast<double>(n);
  for (std::size_t r = 0; r < n; ++r)
    for (int ch = 0; ch < c; ++ch)
      var[ch] += std::pow(t.data()[r * c + ch] - mean[ch], 2) / (n - 1);
}

// conv (PyTorch layout) by plain loops through conv2d_reference.
Tensor conv(const WeightStore& w, const std::string& name, const Tensor& in, int cout) {
  const int cin = in.c();
  const auto& wt = w.at(name + ".weight").data;
  std::vector<float> hwio(9 * cin * cout);
  for (int o = 0; o < cout; ++o)
    for (int i = 0; i < cin; ++i)
      for (int k = 0; k < 9; ++k) hwio[(k * cin + i) * cout + o] = wt[(o * cin + i) * 9 + k];
  const Conv2dParams p{cin, cout, 3, 2, 1, Activation::none};
  Tensor out(in.n(), conv_out_size(in.h(), 3, 2, 1), conv_out_size(in.w(), 3, 2, 1), cout);
  conv2d_reference(p, in, hwio.data(), w.at(name + ".bias").data.data(), out);
  return out;
}

TEST(BnRecalibration, StemStatisticsByHand) {
  const SearchSpace& space = get_space("efficientformer-fmnist");
  const Arch s = space.resolve("s");
  const Network net = space.decode(s);
  const WeightStore w = slice_supernet(space, s, test::random_fmnist_supernet(2));
  std::vector<Tensor> batches;
  Rng rng(9);
  for (int b = 0; b < 2; ++b) {
    Tensor x(3, 64, 64, 1);
    for (std::size_t i = 0; i < x.size(); ++i)
      x.data()[i] = static_cast<float>(2 * uniform_real(rng) - 1);
    batches.push_back(x);
  }
  const WeightStore st =
      recalibrate_batchnorm(net, w, 2, [&](std::size_t b) { return batches[b]; });
  // Every BN of s: stem (2), three downsamples, two per Meta4D block (4 blocks): 13, two tensors
  // each.
  EXPECT_EQ(st.tensors.size(), 26u);
  EXPECT_TRUE(st.contains("stages.3.blocks.0.mlp.norm2.running_var"));
  // By hand: norm1 sees conv1(x); norm2 sees conv2(relu(bn1_train(conv1(x)))).
  std::vector<double> m1(8, 0), v1(8, 0), m2(16, 0), v2(16, 0), m, v;
  for (const Tensor& x : batches) {
    Tensor a = conv(w, "stem.conv1", x, 8);
    stats(a, m, v);
    for (int c = 0; c < 8; ++c) m1[c] += m[c] / 2, v1[c] += v[c] / 2;
    const std::size_t n = a.size() / 8;
    for (std::size_t r = 0; r < n; ++r)
      for (int c = 0; c < 8; ++c) {
        const double biased = v[c] * (n - 1) / n;
        float& e = a.data()[r * 8 + c];
        e = static_cast<float>(std::max(
            0.0, (e - m[c]) / std::sqrt(biased + 1e-5) * w.at("stem.norm1.weight").data[c] +
                     w.at("stem.norm1.bias").data[c]));
      }
    stats(conv(w, "stem.conv2", a, 16), m, v);
    for (int c = 0; c < 16; ++c) m2[c] += m[c] / 2, v2[c] += v[c] / 2;
  }
  for (int c = 0; c < 8; ++c) {
    EXPECT_NEAR(st.at("stem.norm1.running_mean").data[c], m1[c], 1e-5 * (1 + std::abs(m1[c])));
    EXPECT_NEAR(st.at("stem.norm1.running_var").data[c], v1[c], 1e-5 * v1[c]);
  }
  for (int c = 0; c < 16; ++c) {
    EXPECT_NEAR(st.at("stem.norm2.running_mean").data[c], m2[c], 1e-4 * (1 + std::abs(m2[c])));
    EXPECT_NEAR(st.at("stem.norm2.running_var").data[c], v2[c], 1e-4 * v2[c]);
  }
  // The statistics change the model, and merge back into the weights by name.
  const WeightStore merged = with_bn_stats(w, st);
  EXPECT_EQ(merged.at("stem.norm2.running_mean").data, st.at("stem.norm2.running_mean").data);
  EXPECT_NE(w.at("stem.norm2.running_mean").data, st.at("stem.norm2.running_mean").data);
  WeightStore other;
  other.tensors["stem.norm1.running_mean"] = {{4}, {0, 0, 0, 0}};
  EXPECT_THROW(with_bn_stats(w, other), Error);
  EXPECT_THROW(recalibrate_batchnorm(net, w, 1, [](std::size_t) { return Tensor(2, 32, 32, 1); }),
               Error);
}

// Plain loops: a k x k convolution (padding k/2, no bias) with PyTorch weights (cout, cin, k, k),
// or depthwise (c, 1, k, k).
Tensor conv_plain(const Tensor& in, const StoredTensor& w, int stride, bool depthwise) {
  const int cout = static_cast<int>(w.shape[0]), k = static_cast<int>(w.shape[2]), pad = k / 2;
  const int cin = in.c(), ho = (in.h() + 2 * pad - k) / stride + 1,
            wo = (in.w() + 2 * pad - k) / stride + 1;
  Tensor out(in.n(), ho, wo, cout);
  for (int n = 0; n < in.n(); ++n)
    for (int y = 0; y < ho; ++y)
      for (int x = 0; x < wo; ++x)
        for (int o = 0; o < cout; ++o) {
          double acc = 0;
          for (int i = depthwise ? o : 0; i < (depthwise ? o + 1 : cin); ++i)
            for (int dy = 0; dy < k; ++dy)
              for (int dx = 0; dx < k; ++dx) {
                const int sy = y * stride + dy - pad, sx = x * stride + dx - pad;
                if (sy < 0 || sy >= in.h() || sx < 0 || sx >= in.w()) continue;
                const std::size_t wi =
                    ((static_cast<std::size_t>(o) * (depthwise ? 1 : cin) + (depthwise ? 0 : i)) *
                         k +
                     dy) *
                        k +
                    dx;
                acc +=
                    double(in.data()[((static_cast<std::size_t>(n) * in.h() + sy) * in.w() + sx) *
                                         cin +
                                     i]) *
                    w.data[wi];
              }
          out.data()[((static_cast<std::size_t>(n) * ho + y) * wo + x) * cout + o] =
              static_cast<float>(acc);
        }
  return out;
}

// In place: training-mode BN `norm` of `w` then Hardswish; accumulates the batch's statistics
// (mean, unbiased var) / batches into m, v.
void bn_hswish(Tensor& t, const WeightStore& w, const std::string& norm, std::vector<double>& m,
               std::vector<double>& v, int batches) {
  std::vector<double> mean, var;
  stats(t, mean, var);
  const int c = t.c();
  const std::size_t n = t.size() / c;
  m.resize(c, 0.0), v.resize(c, 0.0);
  for (int ch = 0; ch < c; ++ch) m[ch] += mean[ch] / batches, v[ch] += var[ch] / batches;
  for (std::size_t r = 0; r < n; ++r)
    for (int ch = 0; ch < c; ++ch) {
      float& e = t.data()[r * c + ch];
      const double y = (e - mean[ch]) / std::sqrt(var[ch] * (n - 1) / n + 1e-5) *
                           w.at(norm + ".weight").data[ch] +
                       w.at(norm + ".bias").data[ch];
      e = static_cast<float>(y * std::clamp(y + 3, 0.0, 6.0) / 6);
    }
}

void expect_stats(const WeightStore& st, const std::string& norm, const std::vector<double>& m,
                  const std::vector<double>& v) {
  const auto& gm = st.at(norm + ".running_mean").data;
  const auto& gv = st.at(norm + ".running_var").data;
  ASSERT_EQ(gm.size(), m.size()) << norm;
  for (std::size_t c = 0; c < m.size(); ++c) {
    EXPECT_NEAR(gm[c], m[c], 1e-4 * (1 + std::abs(m[c]))) << norm << "[" << c << "]";
    EXPECT_NEAR(gv[c], v[c], 1e-4 * v[c]) << norm << "[" << c << "]";
  }
}

TEST(BnRecalibration, ElasticVitByHand) {
  const SearchSpace& space = get_space("elasticvit-fmnist");
  const Arch s = space.resolve("s");
  const Network net = space.decode(s);
  const WeightStore w =
      slice_supernet(space, s, test::random_union_supernet("elasticvit-fmnist", 6));
  std::vector<Tensor> batches;
  Rng rng(10);
  for (int b = 0; b < 2; ++b) {
    Tensor x(2, 128, 128, 1);
    for (std::size_t i = 0; i < x.size(); ++i)
      x.data()[i] = static_cast<float>(2 * uniform_real(rng) - 1);
    batches.push_back(x);
  }
  const auto batch = [&](std::size_t b) { return batches[b]; };
  const WeightStore st = recalibrate_batchnorm(net, w, 2, batch);
  // Every BatchNorm of the subnet and nothing else (first conv, stem, MBConvs, entries, head).
  std::set<std::string> want, got;
  for (const auto& [name, t] : w.tensors)
    if (name.find("running_") != std::string::npos) want.insert(name);
  for (const auto& [name, t] : st.tensors) got.insert(name);
  EXPECT_EQ(got, want);
  EXPECT_EQ(got.size(), 2u * (1 + 2 + 3 + 3 + 4 * 3 + 1));
  // By hand: first_conv_bn sees conv3x3 s2 (x); the stem's dw_bn sees the depthwise 3x3 of
  // hswish(first_conv_bn_train(...)).
  std::vector<double> m0, v0, m1, v1;
  for (const Tensor& x : batches) {
    Tensor a = conv_plain(x, w.at("first_conv.weight"), 2, false);
    bn_hswish(a, w, "first_conv_bn", m0, v0, 2);
    Tensor d = conv_plain(a, w.at("conv_stem.layers.0.0.dw_conv.weight"), 1, true);
    bn_hswish(d, w, "conv_stem.layers.0.0.dw_bn", m1, v1, 2);
  }
  expect_stats(st, "first_conv_bn", m0, v0);
  expect_stats(st, "conv_stem.layers.0.0.dw_bn", m1, v1);
  // The head's BN normalises over every token of the batch (B*N rows): its statistics by hand
  // from the T4 tokens the recalibration forward feeds the head.
  Model model = Model::for_bn_recalibration(net, w);
  const int c = 96, mc = 6 * 96;
  std::vector<double> mh(mc, 0.0), vh(mc, 0.0), mean, var;
  for (const Tensor& x : batches)
    model.forward_trace(x, [&](std::size_t i, const Tensor& t) {
      if (i + 2 != net.blocks.size()) return;
      Tensor pre(t.n(), t.h(), t.w(), mc);
      const auto& pw = w.at("pre_head_0.weight").data;
      for (std::size_t r = 0; r < t.size() / c; ++r)
        for (int o = 0; o < mc; ++o) {
          double acc = w.at("pre_head_0.bias").data[o];
          for (int k = 0; k < c; ++k)
            acc += double(t.data()[r * c + k]) * pw[static_cast<std::size_t>(o) * c + k];
          pre.data()[r * mc + o] = static_cast<float>(acc);
        }
      stats(pre, mean, var);
      for (int o = 0; o < mc; ++o) mh[o] += mean[o] / 2, vh[o] += var[o] / 2;
    });
  expect_stats(st, "pre_head_norm_0", mh, vh);
  // The same call on the same batches is deterministic, and one batch gives other statistics.
  EXPECT_EQ(recalibrate_batchnorm(net, w, 2, batch).at("pre_head_norm_0.running_var").data,
            st.at("pre_head_norm_0.running_var").data);
  EXPECT_NE(recalibrate_batchnorm(net, w, 1, batch).at("first_conv_bn.running_mean").data,
            st.at("first_conv_bn.running_mean").data);
}

TEST(BnStatsCache, MemoryAndDisk) {
  const std::string dir = test::make_temp_dir("hwnas-bncache");
  int computed = 0;
  const auto compute = [&] {
    ++computed;
    WeightStore s;
    s.tensors["a.running_mean"] = {{2}, {1.5f, -2}};
    return s;
  };
  const std::string key = BnStatsCache::key("{\"arch\":1}", "00ff", "fashion-mnist:seed=0");
  bool hit = true;
  {
    BnStatsCache cache(dir);
    EXPECT_EQ(cache.get_or_compute(key, compute, &hit).at("a.running_mean").data[0], 1.5f);
    EXPECT_FALSE(hit);
    cache.get_or_compute(key, compute, &hit);
    EXPECT_TRUE(hit);
  }
  BnStatsCache fresh(dir);  // a new process: reads the file
  EXPECT_EQ(fresh.get_or_compute(key, compute, &hit).at("a.running_mean").data[1], -2.0f);
  EXPECT_TRUE(hit);
  EXPECT_EQ(computed, 1);
  fresh.get_or_compute(BnStatsCache::key("{\"arch\":2}", "00ff", "fashion-mnist:seed=0"), compute,
                       &hit);
  EXPECT_FALSE(hit);
  EXPECT_EQ(computed, 2);
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    files += e.path().extension() == ".safetensors";
  EXPECT_EQ(files, 2u);
  // Fingerprints differ with the content.
  std::ofstream(dir + "/w1") << "abc";
  std::ofstream(dir + "/w2") << "abd";
  EXPECT_NE(file_fingerprint(dir + "/w1"), file_fingerprint(dir + "/w2"));
  EXPECT_THROW(file_fingerprint(dir + "/none"), Error);
}

}  // namespace
}  // namespace hwnas
