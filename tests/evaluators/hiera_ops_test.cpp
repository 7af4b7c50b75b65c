// Hiera's operators (max pool, position embedding, mask unit attention with Q-pooling) against
// their plain references on ViT sizes and awkward shapes, 1 and 2 threads, plus hand values.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "evaluators/engine/tensor.h"
#include "evaluators/ops/max_pool.h"
#include "evaluators/ops/position_embedding.h"
#include "evaluators/ops/window_attention.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {
namespace {

void fill(Tensor& t, Rng& rng, double lo, double hi) {
  for (std::size_t i = 0; i < t.size(); ++i)
    t.data()[i] = static_cast<float>(lo + (hi - lo) * uniform_real(rng));
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (std::size_t i = 0; i < t.size(); ++i)
    m = std::max(m, std::abs(static_cast<double>(t.data()[i])));
  return m;
}

double max_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    d = std::max(d, std::abs(static_cast<double>(a.data()[i]) - b.data()[i]));
  return d;
}

TEST(HieraOps, MaxPoolMatchesReferenceAndHandValues) {
  // Max is exact: fast and reference must agree bit for bit.
  Rng rng(21);
  for (auto [n, h, w, c, k] :
       {std::tuple{1, 56, 56, 96, 2}, std::tuple{2, 14, 6, 17, 2}, std::tuple{1, 2, 2, 1, 2},
        std::tuple{1, 9, 9, 5, 3}, std::tuple{3, 4, 8, 33, 1}}) {
    const MaxPoolParams p{c, k};
    Tensor in(n, h, w, c), ref(n, h / k, w / k, c), f1 = ref, f2 = ref;
    fill(in, rng, -5, 5);
    max_pool_reference(p, in, ref);
    {
      ThreadScope one(1);
      max_pool(p, in, f1);
    }
    {
      ThreadScope two(2);
      max_pool(p, in, f2);
    }
    EXPECT_EQ(max_diff(f1, ref), 0.0)
        << "(" << n << "," << h << "," << w << "," << c << ") k=" << k;
    EXPECT_EQ(max_diff(f2, ref), 0.0) << "2 threads";
  }
  // Hand values: a 4x4 map 0..15 (row-major), channel 1 negated, pooled 2x2.
  Tensor in(1, 4, 4, 2), out(1, 2, 2, 2);
  for (int i = 0; i < 16; ++i) {
    in.data()[2 * i] = static_cast<float>(i);
    in.data()[2 * i + 1] = -static_cast<float>(i);
  }
  max_pool({2, 2}, in, out);
  const float expect[8] = {5, 0, 7, -2, 13, -8, 15, -10};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(out.data()[i], expect[i]) << i;
  Tensor odd(1, 5, 4, 2), bad(1, 2, 2, 2);
  EXPECT_THROW(max_pool({2, 2}, odd, bad), Error);
}

TEST(HieraOps, PositionEmbeddingIsSharedByTheBatch) {
  Rng rng(22);
  Tensor in(2, 3, 5, 7), ref(2, 3, 5, 7), fast(2, 3, 5, 7);
  fill(in, rng, -1, 1);
  std::vector<float> pos(3 * 5 * 7);
  for (std::size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<float>(i);
  add_position_embedding_reference(in, pos.data(), ref);
  add_position_embedding(in, pos.data(), fast);
  EXPECT_LE(max_diff(fast, ref), 1e-6);
  // Token (y, x) channel c gets pos[(y*w + x)*C + c] in both images.
  for (int b = 0; b < 2; ++b)
    EXPECT_FLOAT_EQ(ref.at(b, 2, 3, 4) - in.at(b, 2, 3, 4), pos[(2 * 5 + 3) * 7 + 4]);
  Tensor copy = in;
  add_position_embedding(copy, pos.data(), copy);  // in place
  EXPECT_LE(max_diff(copy, ref), 1e-6);
  Tensor wrong(2, 3, 5, 6);
  EXPECT_THROW(add_position_embedding(in, pos.data(), wrong), Error);
}

struct WindowCase {
  int n, heads, d, h, w, window;
  bool qpool;
};

TEST(HieraOps, WindowAttentionMatchesReference) {
  // Normalised error (max |diff| / max |ref|) <= 1e-5. Cases: hiera_small's blocks (8x8 mask
  // units on 56x56, 4x4 after one pool, global 14x14 with pooling), TurboViT head dims 16/32/64,
  // and awkward ones (head dim 1, 5, 17; non-square maps; one-token windows; batch 2).
  const WindowCase cases[] = {
      {1, 1, 48, 56, 56, 8, false}, {1, 2, 48, 56, 56, 8, true},  {1, 2, 48, 28, 28, 4, false},
      {1, 4, 48, 28, 28, 4, true},  {1, 4, 48, 14, 14, 0, false}, {1, 8, 48, 14, 14, 0, true},
      {2, 3, 16, 8, 12, 4, true},   {1, 3, 64, 7, 7, 0, false},   {2, 5, 5, 6, 10, 2, true},
      {1, 1, 1, 4, 4, 1, false},    {1, 2, 17, 12, 8, 0, true},   {2, 1, 32, 16, 16, 8, false}};
  Rng rng(23);
  for (const auto& k : cases) {
    const WindowAttentionParams p{k.heads, k.d, k.h, k.w, k.window, k.qpool};
    Tensor qkv(k.n, k.h, k.w, p.qkv_width()), ref(k.n, p.out_h(), p.out_w(), p.width());
    Tensor f1 = ref, f2 = ref;
    fill(qkv, rng, -3, 3);  // logits up to ~9*sqrt(d): a peaked softmax
    window_attention_reference(p, qkv, ref);
    {
      ThreadScope one(1);
      window_attention(p, qkv, f1);
    }
    {
      ThreadScope two(2);
      window_attention(p, qkv, f2);
    }
    const double scale = max_abs(ref);
    ASSERT_GT(scale, 0.0);
    EXPECT_LE(max_diff(f1, ref) / scale, 1e-5)
        << "n=" << k.n << " heads=" << k.heads << " d=" << k.d << " map " << k.h << "x" << k.w
        << " window " << k.window << " qpool " << k.qpool;
    EXPECT_LE(max_diff(f2, ref) / scale, 1e-5) << "2 threads";
  }
}

TEST(HieraOps, WindowAttentionStaysInsideMaskUnitsAndPoolsQueries) {
  // With q = 0 every key gets the same logit, so each output is the mean of v over its window:
  // v = the token's window index makes the output equal that index (no leak between windows).
  const WindowAttentionParams p{2, 3, 8, 8, 4, true};
  Tensor qkv(1, 8, 8, p.qkv_width()), ref(1, 4, 4, p.width()), fast = ref;
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x)
      for (int ch = 0; ch < p.width(); ++ch) {
        qkv.at(0, y, x, p.width() + ch) = static_cast<float>(y + x);  // keys: irrelevant
        qkv.at(0, y, x, 2 * p.width() + ch) = static_cast<float>((y / 4) * 2 + x / 4);
      }
  window_attention_reference(p, qkv, ref);
  window_attention(p, qkv, fast);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x)
      for (int ch = 0; ch < p.width(); ++ch) {
        EXPECT_NEAR(ref.at(0, y, x, ch), (y / 2) * 2 + x / 2, 1e-6) << y << "," << x;
        EXPECT_NEAR(fast.at(0, y, x, ch), (y / 2) * 2 + x / 2, 1e-6) << y << "," << x;
      }
  // Q-pooling takes the per-channel max of the 2x2 queries: one query of a group set high
  // (the others 0) must give the same output as all four set high.
  const WindowAttentionParams g{1, 2, 4, 4, 0, true};
  Tensor a(1, 4, 4, g.qkv_width()), b(1, 4, 4, g.qkv_width()), oa(1, 2, 2, 2), ob(1, 2, 2, 2);
  Rng rng(24);
  fill(a, rng, -1, 1);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x)
      for (int ch = 0; ch < 2; ++ch) a.at(0, y, x, ch) = (y % 2 == 1 && x % 2 == 0) ? 2.0f : 0.0f;
  b = a;
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x)
      for (int ch = 0; ch < 2; ++ch) b.at(0, y, x, ch) = 2.0f;
  window_attention_reference(g, a, oa);
  window_attention_reference(g, b, ob);
  EXPECT_LE(max_diff(oa, ob), 1e-6);
  window_attention(g, a, oa);
  EXPECT_LE(max_diff(oa, ob), 1e-6);
}

TEST(HieraOps, WindowAttentionRejectsBadShapes) {
  Tensor qkv(1, 6, 6, 3 * 4), out(1, 6, 6, 4);
  EXPECT_THROW(window_attention({1, 4, 6, 6, 4, false}, qkv, out), Error);  // 4 does not tile 6
  Tensor pooled(1, 3, 3, 4);
  EXPECT_THROW(window_attention({1, 4, 6, 6, 3, true}, qkv, pooled), Error);  // odd window
  EXPECT_THROW(window_attention({2, 4, 6, 6, 0, false}, qkv, out), Error);    // qkv width
  EXPECT_NO_THROW(window_attention({1, 4, 6, 6, 0, true}, qkv, pooled));
}

}  // namespace
}  // namespace hwnas
