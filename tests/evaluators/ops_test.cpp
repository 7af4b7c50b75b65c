// Each fast operator against its plain reference on random shapes (ViT sizes and awkward ones),
// 1 thread vs N threads, adversarial softmax logits.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "evaluators/engine/tensor.h"
#include "evaluators/ops/activation.h"
#include "evaluators/ops/avg_pool_exclude_pad.h"
#include "evaluators/ops/conv2d.h"
#include "evaluators/ops/efficientformer_attention.h"
#include "evaluators/ops/gemm.h"
#include "evaluators/ops/layer_norm.h"
#include "evaluators/ops/linear.h"
#include "evaluators/ops/mean_tokens.h"
#include "evaluators/ops/packed_gemm.h"
#include "evaluators/ops/pool_mixer.h"
#include "evaluators/ops/scale_add.h"
#include "evaluators/ops/softmax.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {
namespace {

void fill(Tensor& t, Rng& rng, double lo = -1, double hi = 1) {
  for (std::size_t i = 0; i < t.size(); ++i)
    t.data()[i] = static_cast<float>(lo + (hi - lo) * uniform_real(rng));
}
std::vector<float> random_vec(std::size_t n, Rng& rng, double lo = -1, double hi = 1) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(lo + (hi - lo) * uniform_real(rng));
  return v;
}

// Max of |a-b| / (atol + rtol*|b|); <= 1 means within tolerance.
double tol_ratio(const Tensor& a, const Tensor& b, double atol, double rtol) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a.data()[i]) - b.data()[i]) /
                                (atol + rtol * std::abs(static_cast<double>(b.data()[i]))));
  return worst;
}

std::string describe(const Tensor& t) {
  std::ostringstream s;
  s << "(" << t.n() << "," << t.h() << "," << t.w() << "," << t.c() << ")";
  return s.str();
}

TEST(Tensor, OwningIsAlignedAndZeroed) {
  Tensor t(2, 3, 5, 7);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data()) % kTensorAlignment, 0u);
  EXPECT_EQ(t.size(), 210u);
  for (std::size_t i = 0; i < t.size(); ++i) EXPECT_EQ(t.data()[i], 0.0f);
  t.at(1, 2, 4, 6) = 3.0f;
  EXPECT_EQ(t.data()[209], 3.0f);
  Tensor copy = t;
  EXPECT_NE(copy.data(), t.data());
  EXPECT_EQ(copy.data()[209], 3.0f);
  Tensor v = Tensor::view(t.data(), 1, 1, 1, 210);
  EXPECT_FALSE(v.owning());
  EXPECT_EQ(v.data(), t.data());
  const float* before = t.data();
  t.resize(1, 1, 1, 100);  // smaller: no reallocation
  EXPECT_EQ(t.data(), before);
  EXPECT_THROW(v.resize(1, 1, 1, 5), Error);
  EXPECT_THROW(Tensor(1, -1, 1, 1), Error);
  EXPECT_THROW(t.reshaped(1, 1, 1, 7), Error);
}

struct ConvCase {
  int n, h, w, cin, cout, k, s, p;
  Activation act;
};

TEST(Ops, Conv2dMatchesReference) {
  // Tolerance: rel. 1e-4 + abs 1e-5 * sqrt(k*k*cin) (fp32 accumulation of k*k*cin products).
  const ConvCase cases[] = {{1, 17, 13, 3, 24, 3, 2, 1, Activation::relu},
                            {2, 9, 11, 5, 7, 3, 1, 1, Activation::none},
                            {1, 14, 14, 17, 33, 3, 2, 1, Activation::gelu},
                            {1, 8, 8, 48, 96, 3, 2, 1, Activation::none},
                            {3, 5, 6, 15, 17, 1, 1, 0, Activation::gelu},
                            {1, 7, 7, 9, 1, 3, 2, 1, Activation::relu},
                            {1, 1, 1, 4, 3, 1, 1, 0, Activation::none},
                            {1, 31, 29, 16, 15, 3, 2, 1, Activation::relu},
                            {2, 40, 37, 5, 9, 3, 2, 1, Activation::gelu},
                            {1, 65, 67, 3, 24, 3, 2, 1, Activation::relu},
                            {1, 12, 10, 6, 8, 5, 2, 2, Activation::relu},
                            {2, 9, 9, 12, 10, 3, 1, 0, Activation::none}};
  Rng rng(1);
  for (const auto& c : cases) {
    const Conv2dParams p{c.cin, c.cout, c.k, c.s, c.p, c.act};
    Tensor in(c.n, c.h, c.w, c.cin);
    fill(in, rng);
    const auto w = random_vec(static_cast<std::size_t>(c.k) * c.k * c.cin * c.cout, rng);
    const auto b = random_vec(c.cout, rng);
    const int ho = conv_out_size(c.h, c.k, c.s, c.p), wo = conv_out_size(c.w, c.k, c.s, c.p);
    Tensor ref(c.n, ho, wo, c.cout), fast1(c.n, ho, wo, c.cout), fast2(c.n, ho, wo, c.cout);
    const PackedWeights packed(w.data(), c.k * c.k * c.cin, c.cout, c.cout);
    conv2d_reference(p, in, w.data(), b.data(), ref);
    {
      ThreadScope one(1);
      conv2d(p, in, packed, b.data(), fast1);
    }
    {
      ThreadScope two(2);
      conv2d(p, in, packed, b.data(), fast2);
    }
    const double atol = 1e-5 * std::sqrt(c.k * c.k * c.cin);
    EXPECT_LE(tol_ratio(fast1, ref, atol, 1e-4), 1.0) << "conv " << describe(in) << " k" << c.k;
    EXPECT_LE(tol_ratio(fast2, fast1, atol, 1e-4), 1.0) << "threads differ " << describe(in);
  }
}

TEST(Ops, Conv2dRejectsBadShapes) {
  Tensor in(1, 8, 8, 3), out(1, 4, 4, 8);
  std::vector<float> w(3 * 3 * 3 * 8), b(8);
  const PackedWeights packed(w.data(), 27, 8, 8), wrong(w.data(), 24, 8, 8);
  EXPECT_THROW(conv2d({4, 8, 3, 2, 1, Activation::none}, in, packed, b.data(), out), Error);
  EXPECT_THROW(conv2d({3, 8, 3, 1, 1, Activation::none}, in, packed, b.data(), out), Error);
  EXPECT_THROW(conv2d({3, 8, 0, 1, 1, Activation::none}, in, packed, b.data(), out), Error);
  EXPECT_THROW(conv2d({3, 8, 3, 2, 1, Activation::none}, in, wrong, b.data(), out), Error);
  EXPECT_THROW(conv2d_reference({3, 9, 3, 2, 1, Activation::none}, in, w.data(), b.data(), out),
               Error);
}

TEST(Ops, PackedGemmMatchesReferenceWithEpilogue) {
  // Awkward row counts (1, primes, the 49/196-token layers, tall maps) and widths around the
  // 16-lane vector and oneDNN's 64-column panels (1, 15, 17, 31, 33, 48, 1000).
  const int shapes[][3] = {
      {1, 1, 1},      {13, 17, 5},    {15, 31, 33},   {29, 33, 7},  {49, 448, 1792},
      {257, 48, 192}, {600, 24, 27},  {49, 1000, 64}, {3, 15, 300}, {196, 96, 384},
      {17, 33, 1024}, {300, 40, 2048}};  // lda % 1024 == 0: packed-A path
  Rng rng(12);
  for (const auto& s : shapes) {
    const int m = s[0], n = s[1], k = s[2];
    for (Activation act :
         {Activation::none, Activation::relu, Activation::gelu, Activation::hardswish}) {
      for (bool with_res : {false, true}) {
        Tensor a(1, 1, m, k), b(1, 1, k, n), res(1, 1, m, n), ref(1, 1, m, n), f1(1, 1, m, n),
            f2(1, 1, m, n);
        fill(a, rng);
        fill(b, rng);
        fill(res, rng);
        const auto bias = random_vec(n, rng);
        const GemmEpilogue ep{bias.data(), act, with_res ? res.data() : nullptr, n};
        const PackedWeights packed(b.data(), k, n, n);
        gemm_reference(m, n, k, a.data(), k, b.data(), n, ref.data(), n, ep);
        {
          ThreadScope one(1);
          gemm_packed(m, a.data(), k, packed, f1.data(), n, ep);
        }
        {
          ThreadScope two(2);
          gemm_packed(m, a.data(), k, packed, f2.data(), n, ep);
        }
        const double atol = 8e-6 * std::sqrt(k);
        EXPECT_LE(tol_ratio(f1, ref, atol, 1e-4), 1.0)
            << m << "x" << n << "x" << k << " " << activation_name(act);
        EXPECT_LE(tol_ratio(f2, ref, atol, 1e-4), 1.0) << m << "x" << n << "x" << k << " 2 threads";
      }
    }
    // In-place residual (x += y W), as the transformer blocks use it.
    Tensor a(1, 1, m, k), b(1, 1, k, n), c(1, 1, m, n), expect(1, 1, m, n);
    fill(a, rng);
    fill(b, rng);
    fill(c, rng);
    gemm_reference(m, n, k, a.data(), k, b.data(), n, expect.data(), n,
                   GemmEpilogue{nullptr, Activation::none, c.data(), n});
    gemm_packed(m, a.data(), k, PackedWeights(b.data(), k, n, n), c.data(), n,
                GemmEpilogue{nullptr, Activation::none, c.data(), n});
    EXPECT_LE(tol_ratio(c, expect, 8e-6 * std::sqrt(k), 1e-4), 1.0) << "in-place residual";
  }
  EXPECT_THROW(PackedWeights(nullptr, 0, 3, 3), Error);
}

TEST(Ops, LinearMatchesReference) {
  Rng rng(3);
  for (auto [rows, in, out] :
       {std::tuple{49, 448, 1536}, std::tuple{13, 17, 15}, std::tuple{2, 3, 1000}}) {
    Tensor x(1, 1, rows, in), r1(1, 1, rows, out), f(1, 1, rows, out), res(1, 1, rows, out);
    fill(x, rng);
    fill(res, rng);
    const auto w = random_vec(static_cast<std::size_t>(in) * out, rng, -0.1, 0.1);
    const auto b = random_vec(out, rng);
    linear_reference({in, out, Activation::gelu}, x, w.data(), b.data(), &res, r1);
    linear({in, out, Activation::gelu}, x, PackedWeights(w.data(), in, out, out), b.data(), &res,
           f);
    EXPECT_LE(tol_ratio(f, r1, 1e-5, 1e-4), 1.0) << rows << "x" << in << "->" << out;
  }
  Tensor x(1, 1, 3, 4), y(1, 1, 3, 5);
  std::vector<float> w(25);
  EXPECT_THROW(
      linear({5, 5, Activation::none}, x, PackedWeights(w.data(), 5, 5, 5), nullptr, nullptr, y),
      Error);
  Tensor x5(1, 1, 3, 5);
  EXPECT_THROW(
      linear({5, 5, Activation::none}, x5, PackedWeights(w.data(), 4, 5, 5), nullptr, nullptr, y),
      Error);
}

TEST(Ops, ActivationsMatchDoubleReference) {
  // GELU(erf): abs 2e-6 + rel 1e-5 over [-10, 10]; ReLU and Hardswish to rounding.
  Rng rng(4);
  std::vector<float> x = random_vec(4099, rng, -10, 10);
  x.push_back(0.0f);
  x.push_back(-0.0f);
  for (Activation act : {Activation::relu, Activation::gelu, Activation::hardswish}) {
    auto fast = x, ref = x;
    apply_activation(act, fast.data(), fast.size());
    apply_activation_reference(act, ref.data(), ref.size());
    for (std::size_t i = 0; i < x.size(); ++i)
      EXPECT_NEAR(fast[i], ref[i], 2e-6 + 1e-5 * std::abs(ref[i]))
          << activation_name(act) << "(" << x[i] << ")";
  }
  // Hand values: GELU(1) = 0.5 * (1 + erf(1/sqrt 2)) = 0.8413447...
  float v[3] = {1.0f, -1.0f, 3.0f};
  apply_activation(Activation::gelu, v, 3);
  EXPECT_NEAR(v[0], 0.8413447, 1e-6);
  EXPECT_NEAR(v[1], -0.1586553, 1e-6);
  EXPECT_NEAR(v[2], 2.9959502, 1e-6);
  // Hardswish(x) = x * relu6(x + 3) / 6: 0 below -3, x above 3, -1/3 at -1, 2/3 at 1.
  float hs[5] = {-4.0f, -1.0f, 1.0f, 2.5f, 3.5f};
  apply_activation(Activation::hardswish, hs, 5);
  EXPECT_EQ(hs[0], 0.0f);
  EXPECT_NEAR(hs[1], -1.0 / 3.0, 1e-7);
  EXPECT_NEAR(hs[2], 2.0 / 3.0, 1e-7);
  EXPECT_NEAR(hs[3], 2.5 * 5.5 / 6.0, 1e-6);
  EXPECT_EQ(hs[4], 3.5f);
}

TEST(Ops, PoolMixerMatchesReferenceAndHandValues) {
  Rng rng(5);
  for (auto [n, h, w, c] :
       {std::tuple{1, 56, 56, 48}, std::tuple{2, 7, 5, 17}, std::tuple{1, 1, 1, 3},
        std::tuple{1, 2, 9, 15}, std::tuple{3, 13, 11, 33}, std::tuple{1, 6, 5, 24},
        std::tuple{2, 4, 4, 40}}) {
    Tensor in(n, h, w, c), ref(n, h, w, c), f1(n, h, w, c), f2(n, h, w, c);
    fill(in, rng);
    const auto ls = random_vec(c, rng, 0, 1);
    pool_mixer_reference({c, 3}, in, ls.data(), ref);
    {
      ThreadScope one(1);
      pool_mixer({c, 3}, in, ls.data(), f1);
    }
    {
      ThreadScope two(2);
      pool_mixer({c, 3}, in, ls.data(), f2);
    }
    EXPECT_LE(tol_ratio(f1, ref, 1e-6, 1e-5), 1.0) << describe(in);
    EXPECT_LE(tol_ratio(f2, ref, 1e-6, 1e-5), 1.0) << describe(in) << " 2 threads";
  }
  // count_include_pad=False by hand: 2x2 image, each pixel's window holds all 4 pixels.
  Tensor in(1, 2, 2, 1), out(1, 2, 2, 1);
  const float vals[4] = {1, 2, 3, 6};
  for (int i = 0; i < 4; ++i) in.data()[i] = vals[i];
  const float ls = 1.0f;
  pool_mixer({1, 3}, in, &ls, out);
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(out.data()[i], 3.0f);  // x + (mean - x) = mean
}

TEST(Ops, AvgPoolReferenceExcludesPadding) {
  // 3x3 image of 1..9: the corner averages its 4 in-image neighbours (count_include_pad=False),
  // the centre all 9, an edge 6.
  Tensor in(1, 3, 3, 1), out(1, 3, 3, 1);
  for (int i = 0; i < 9; ++i) in.data()[i] = static_cast<float>(i + 1);
  avg_pool_exclude_pad_reference({1, 3}, in, out);
  EXPECT_FLOAT_EQ(out.at(0, 0, 0, 0), (1 + 2 + 4 + 5) / 4.0f);
  EXPECT_FLOAT_EQ(out.at(0, 1, 1, 0), 5.0f);
  EXPECT_FLOAT_EQ(out.at(0, 0, 1, 0), (1 + 2 + 3 + 4 + 5 + 6) / 6.0f);
  EXPECT_THROW(avg_pool_exclude_pad_reference({1, 2}, in, out), Error);
}

TEST(Ops, LayerNormMatchesReference) {
  Rng rng(6);
  for (auto [rows, c] :
       {std::tuple{49, 448}, std::tuple{7, 17}, std::tuple{3, 1}, std::tuple{50, 769}}) {
    Tensor in(1, 1, rows, c), ref(1, 1, rows, c), f(1, 1, rows, c);
    fill(in, rng, 50, 51);  // large offset: variance must not cancel
    const auto g = random_vec(c, rng), b = random_vec(c, rng);
    layer_norm_reference({c, 1e-5f}, in, g.data(), b.data(), ref);
    layer_norm({c, 1e-5f}, in, g.data(), b.data(), f);
    EXPECT_LE(tol_ratio(f, ref, 3e-4, 1e-4), 1.0) << rows << "x" << c;
  }
}

TEST(Ops, SoftmaxAdversarialLogits) {
  Rng rng(7);
  for (int cols : {1, 7, 49, 50, 196}) {
    std::vector<float> x = random_vec(static_cast<std::size_t>(cols) * 5, rng, 90, 100);
    auto ref = x;
    softmax_rows(x.data(), 5, cols, cols);
    softmax_rows_reference(ref.data(), 5, cols, cols);
    for (int r = 0; r < 5; ++r) {
      double sum = 0;
      for (int j = 0; j < cols; ++j) {
        const float v = x[static_cast<std::size_t>(r) * cols + j];
        ASSERT_TRUE(std::isfinite(v));
        EXPECT_NEAR(v, ref[static_cast<std::size_t>(r) * cols + j],
                    1e-6 + 1e-5 * ref[static_cast<std::size_t>(r) * cols + j]);
        sum += v;
      }
      EXPECT_NEAR(sum, 1.0, 1e-5);
    }
  }
}

// Rows with a leading dimension beyond their width (the attention ops' strided logits), logits
// spread over 150 units so that most exponentials underflow, and a row of equal logits: the
// padding between rows stays untouched, each row matches the double-precision reference, and
// the result does not depend on the rows' address.
TEST(Ops, SoftmaxStridedRowsAndUnderflow) {
  Rng rng(8);
  for (int cols : {1, 15, 16, 17, 64, 197}) {
    const int rows = 4, ld = cols + 5;
    std::vector<float> x = random_vec(static_cast<std::size_t>(rows) * ld, rng, -120, 30);
    for (int j = 0; j < cols; ++j) x[static_cast<std::size_t>(2) * ld + j] = 3.5f;
    auto ref = x;
    const auto before = x;
    softmax_rows(x.data(), rows, cols, ld);
    softmax_rows_reference(ref.data(), rows, cols, ld);
    for (int r = 0; r < rows; ++r) {
      for (int j = 0; j < ld; ++j) {
        const std::size_t i = static_cast<std::size_t>(r) * ld + j;
        if (j >= cols) {
          EXPECT_EQ(x[i], before[i]) << "padding " << r << "," << j;
          continue;
        }
        ASSERT_TRUE(std::isfinite(x[i]));
        EXPECT_NEAR(x[i], ref[i], 1e-7 + 1e-5 * ref[i]) << cols << ": " << r << "," << j;
      }
      if (r == 2) {
        EXPECT_NEAR(x[static_cast<std::size_t>(r) * ld], 1.0 / cols, 1e-6);
      }
    }
    // Bit-identical wherever the rows lie: the same logits one float further on.
    std::vector<float> shifted(before.size() + 1);
    std::copy(before.begin(), before.end(), shifted.begin() + 1);
    softmax_rows(shifted.data() + 1, rows, cols, ld);
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(shifted[i + 1], x[i]) << cols << ": " << i;
  }
}

TEST(Ops, AttentionMatchesReference) {
  // Normalised error (max |diff| / max |ref|) <= 1e-5.
  Rng rng(8);
  for (auto [n, heads, kd, dv, h, w] :
       {std::tuple{1, 8, 32, 128, 7, 7}, std::tuple{2, 3, 5, 11, 3, 5},
        std::tuple{1, 1, 1, 1, 1, 1}, std::tuple{1, 2, 16, 64, 2, 2}}) {
    const EfficientFormerAttentionParams p{heads, kd, dv, h, w};
    Tensor qkv(n, h, w, p.qkv_width()), ref(n, h, w, p.out_width()), f1(n, h, w, p.out_width()),
        f2(n, h, w, p.out_width());
    fill(qkv, rng, -3, 3);
    const auto bias = random_vec(static_cast<std::size_t>(heads) * h * w, rng, -2, 2);
    efficientformer_attention_reference(p, qkv, bias.data(), ref);
    {
      ThreadScope one(1);
      efficientformer_attention(p, qkv, bias.data(), f1);
    }
    {
      ThreadScope two(2);
      efficientformer_attention(p, qkv, bias.data(), f2);
    }
    double maxref = 0, d1 = 0, d2 = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      maxref = std::max(maxref, std::abs(static_cast<double>(ref.data()[i])));
      d1 = std::max(d1, std::abs(static_cast<double>(f1.data()[i]) - ref.data()[i]));
      d2 = std::max(d2, std::abs(static_cast<double>(f2.data()[i]) - ref.data()[i]));
    }
    EXPECT_LE(d1 / maxref, 1e-5) << "heads=" << heads << " kd=" << kd << " grid " << h << "x" << w;
    EXPECT_LE(d2 / maxref, 1e-5) << "2 threads";
  }
}

TEST(Ops, AttentionBiasIndexedByAbsoluteOffsets) {
  // With q = k = 0, the softmax sees only the bias: row i's weights follow bias[|dr|*w+|dc|].
  const EfficientFormerAttentionParams p{1, 1, 1, 2, 3};
  Tensor qkv(1, 2, 3, 3), out(1, 2, 3, 1);
  for (int t = 0; t < 6; ++t) qkv.data()[t * 3 + 2] = static_cast<float>(t);  // v = token index
  const float bias[6] = {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f};
  efficientformer_attention_reference(p, qkv, bias, out);
  for (int i = 0; i < 6; ++i) {
    double num = 0, den = 0;
    for (int j = 0; j < 6; ++j) {
      const int idx = std::abs(i / 3 - j / 3) * 3 + std::abs(i % 3 - j % 3);
      num += std::exp(bias[idx]) * j;
      den += std::exp(bias[idx]);
    }
    EXPECT_NEAR(out.data()[i], num / den, 1e-6) << "token " << i;
  }
  Tensor f(1, 2, 3, 1);
  efficientformer_attention(p, qkv, bias, f);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(f.data()[i], out.data()[i], 1e-6);
}

TEST(Ops, MeanTokensAndScaleAdd) {
  Rng rng(9);
  Tensor in(2, 3, 5, 19), ref(2, 1, 1, 19), f(2, 1, 1, 19);
  fill(in, rng);
  mean_tokens_reference(in, ref);
  mean_tokens(in, f);
  EXPECT_LE(tol_ratio(f, ref, 1e-6, 1e-5), 1.0);
  double hand = 0;
  for (int t = 0; t < 15; ++t) hand += in.data()[static_cast<std::size_t>(15 + t) * 19 + 4];
  EXPECT_NEAR(f.data()[19 + 4], hand / 15, 1e-6);

  Tensor x(1, 2, 2, 3), y(1, 2, 2, 3), o1(1, 2, 2, 3), o2(1, 2, 2, 3);
  fill(x, rng);
  fill(y, rng);
  const float g[3] = {0.5f, -1.0f, 2.0f};
  scale_add(x, g, y, o1);
  scale_add_reference(x, g, y, o2);
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(o1.data()[i], x.data()[i] + g[i % 3] * y.data()[i], 1e-6);
    EXPECT_NEAR(o2.data()[i], o1.data()[i], 1e-6);
  }
  Tensor bad(1, 1, 1, 3);
  EXPECT_THROW(scale_add(x, g, bad, o1), Error);
}

}  // namespace
}  // namespace hwnas
