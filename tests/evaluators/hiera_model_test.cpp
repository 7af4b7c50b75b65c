// Hiera / TurboViT-style networks in the engine: golden parity with timm's Hiera (hiera_small),
// its per-stage outputs, timm's parameter names, and fast vs reference on sampled TurboViT archs.
//
// hiera_small has head dim 48 (1, 2, 4, 8 heads on widths 48..384), which the TurboViT space's
// head-dim choices {16, 32, 64} cannot express, so the golden network is built from the golden
// json's timm arguments with hiera_config_from_timm + hiera_network (the TurboViT decoder).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/rng.h"
#include "evaluators/engine/block_runner.h"
#include "evaluators/engine/model.h"
#include "evaluators/io/npy.h"
#include "evaluators/io/npz.h"
#include "evaluators/io/safetensors.h"
#include "evaluators/runtime/thread_scope.h"
#include "spaces/hiera_network.h"
#include "spaces/registry.h"
#include "spaces/turbovit_space.h"
#include "tests/evaluators/golden_model.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

using test::max_abs_diff;
using test::nchw_to_nhwc;

const std::string kGolden = "hiera_small";

nlohmann::json golden_json() {
  std::ifstream f(test::golden_dir() + "/" + kGolden + ".json");
  return nlohmann::json::parse(f);
}

Network golden_net() {
  return hiera_network(hiera_config_from_timm(golden_json().at("arch")), "turbovit");
}

// Golden name of each block output timm saves: the patch embedding (+ pos_embed) and the last
// block of each stage (the block before the head or before a block that changes width or pools).
std::map<std::size_t, std::string> stage_blocks(const Network& net) {
  std::map<std::size_t, std::string> out{{0, "patch_embed_pos"}};
  int stage = 0;
  for (std::size_t i = 1; i + 1 < net.blocks.size(); ++i) {
    const BlockSpec& next = net.blocks[i + 1];
    if (next.kind == BlockKind::hiera_head || next.get("qpool") == 1 ||
        next.get("cin") != next.get("c"))
      out[i] = "stage" + std::to_string(stage++);
  }
  return out;
}

class GoldenHiera : public ::testing::Test {
 protected:
  static const test::GoldenModel& golden() { return test::golden_model(kGolden); }
  void check(KernelPath path, int threads) {
    const Network net = golden_net();
    const auto ends = stage_blocks(net);
    ASSERT_EQ(ends.size(), 5u);
    test::check_golden_model(golden(), net, ends, path, threads);
  }
};

TEST_F(GoldenHiera, FastPathMatchesTimm) { check(KernelPath::fast, 2); }
TEST_F(GoldenHiera, FastPathOneThreadMatchesTimm) { check(KernelPath::fast, 1); }
TEST_F(GoldenHiera, ReferencePathMatchesTimm) { check(KernelPath::reference, 1); }

// Position of spatial token (y, x) of an h x w map in timm's unrolled order with `levels` 2x2
// unroll steps left (hiera_blocks.md section 2): the finest 2x2 offset is the slowest index, the
// (h >> levels) x (w >> levels) grid the fastest.
std::size_t unrolled_index(int y, int x, int h, int w, int levels) {
  std::size_t idx = 0;
  for (int l = 0; l < levels; ++l) idx = (idx * 2 + ((y >> l) & 1)) * 2 + ((x >> l) & 1);
  const int gh = h >> levels, gw = w >> levels;
  return idx * static_cast<std::size_t>(gh * gw) +
         static_cast<std::size_t>((y >> levels) * gw + (x >> levels));
}

TEST_F(GoldenHiera, SpatialOrderIsTimmsRerolledOrder) {
  // The engine keeps tokens in spatial order; timm's own (unrolled) stage tensors are the same
  // values under the unroll permutation, with 3 steps before the blocks and one fewer after
  // each Q-pool (so the engine needs no permutation anywhere).
  const Network net = golden_net();
  Model model = Model::from_weights(net, golden().weights);
  const auto stage_of = stage_blocks(net);
  int levels = 3, compared = 0;
  std::size_t counted = 1;  // blocks whose Q-pooling is already subtracted from `levels`
  model.forward_trace(golden().input, [&](std::size_t i, const Tensor& out) {
    auto it = stage_of.find(i);
    if (it == stage_of.end()) return;
    const std::string name = i == 0 ? "unrolled_input" : it->second + "_unrolled";
    const FeatureShape o = block_output_shape(net.blocks[i]);
    for (; counted <= i; ++counted)
      if (net.blocks[counted].kind == BlockKind::hiera_block &&
          net.blocks[counted].get("qpool") == 1)
        --levels;
    const NpyArray& g = golden().stages.at(name);
    ASSERT_EQ(g.data.size(), out.size()) << name;
    double d = 0;
    for (int y = 0; y < o.h; ++y)
      for (int x = 0; x < o.w; ++x)
        for (int ch = 0; ch < o.c; ++ch)
          d = std::max(d, std::abs(static_cast<double>(out.at(0, y, x, ch)) -
                                   g.data[unrolled_index(y, x, o.h, o.w, levels) * o.c + ch]));
    EXPECT_LE(d, 1e-4) << name << " with " << levels << " unroll levels";
    ++compared;
  });
  EXPECT_EQ(compared, 5);
  EXPECT_EQ(levels, 0);
}

TEST_F(GoldenHiera, RandomWeightsUseTimmNamesAndShapes) {
  // The tensors the engine asks for are exactly timm's state dict (names and shapes), and the
  // block counts add up to timm's parameter count.
  const Network net = golden_net();
  const WeightStore drawn = Model::random_weights(net, 1);
  ASSERT_EQ(drawn.tensors.size(), golden().weights.tensors.size());
  for (const auto& [name, t] : golden().weights.tensors) {
    ASSERT_TRUE(drawn.contains(name)) << name;
    EXPECT_EQ(drawn.at(name).shape, t.shape) << name;
  }
  EXPECT_EQ(net.params(), golden_json().at("params").get<std::int64_t>());
}

const TurboVitSpace& turbovit() {
  return dynamic_cast<const TurboVitSpace&>(get_space("turbovit"));
}

Tensor random_input(const Network& net, int batch, std::uint64_t seed) {
  Tensor t(batch, net.input.h, net.input.w, net.input.c);
  Rng rng(seed);
  for (std::size_t i = 0; i < t.size(); ++i)
    t.data()[i] = static_cast<float>(2 * uniform_real(rng) - 1);
  return t;
}

TEST(HieraModel, SampledTurboVitArchsFastMatchReference) {
  // Sampled widths, heads, MLP ratios and mask units, with depths capped at 2 and a 64x64 input
  // (16x16 tokens: 8x8 or 4x4 mask units still tile every stage) so the reference path is quick.
  Rng rng(31);
  for (int trial = 0; trial < 4; ++trial) {
    const Arch arch = turbovit().sample(rng);
    HieraConfig c = turbovit().hiera_config(arch);
    for (auto& d : c.depths) d = std::min(d, 2);
    c.resolution = 64;
    const Network net = hiera_network(c, "turbovit");
    Model model = Model::random(net, 200 + trial);
    const Tensor in = random_input(net, trial == 3 ? 2 : 1, 9 + trial);
    ThreadScope scope(2);
    model.set_kernel_path(KernelPath::fast);
    const Tensor fast = model.forward(in);
    model.set_kernel_path(KernelPath::reference);
    const Tensor ref = model.forward(in);
    double scale = 0;
    for (std::size_t i = 0; i < ref.size(); ++i)
      scale = std::max(scale, std::abs(static_cast<double>(ref.data()[i])));
    EXPECT_GT(scale, 0.0);
    EXPECT_LE(max_abs_diff(fast.data(), ref.data(), ref.size()), 1e-4 * std::max(1.0, scale))
        << "arch " << turbovit().to_json(arch).dump() << " (depths capped at 2, 64x64 input)";
  }
}

TEST(HieraModel, RandomModelBuildsForNamedAndExtremeTurboVitArchs) {
  // The profiler builds Model::random for every arch of the space; turbovit-ref also runs.
  for (const Arch& a :
       {turbovit().resolve("turbovit-ref"), turbovit().smallest(), turbovit().largest()}) {
    const Network net = turbovit().decode(a);
    EXPECT_NO_THROW(Model::random(net, 1)) << turbovit().to_json(a).dump();
  }
  const Network net = turbovit().decode(turbovit().resolve("turbovit-ref"));
  Model model = Model::random(net, 2);
  const Tensor logits = model.forward(random_input(net, 1, 3));
  ASSERT_EQ(logits.c(), 1000);
  for (std::size_t i = 0; i < logits.size(); ++i) ASSERT_TRUE(std::isfinite(logits.data()[i]));
}

TEST(HieraModel, BlockRunnerRunsEveryHieraKind) {
  // The profiler times blocks alone through BlockRunner: every Hiera kind (patch embedding,
  // mask-unit / global blocks with and without Q-pooling, head) must run there too.
  HieraConfig c = turbovit().hiera_config(turbovit().resolve("turbovit-ref"));
  c.resolution = 64;
  c.depths = {1, 2, 2, 1};
  const Network net = hiera_network(c, "turbovit");
  std::set<std::string> seen;
  for (const auto& b : net.blocks) {
    BlockRunner r(b, 2, 1);
    r.run();
    const FeatureShape o = block_output_shape(b);
    ASSERT_EQ(r.output().size(), static_cast<std::size_t>(2) * o.h * o.w * o.c) << b.key();
    for (std::size_t i = 0; i < r.output().size(); ++i)
      ASSERT_TRUE(std::isfinite(r.output().data()[i])) << b.key();
    seen.insert(std::string(block_kind_name(b.kind)) +
                (b.kind == BlockKind::hiera_block ? (b.get("mu") ? ":mu" : ":global") +
                                                        std::string(b.get("qpool") ? "+qpool" : "")
                                                  : ""));
  }
  EXPECT_EQ(seen, (std::set<std::string>{"hiera_patch_embed", "hiera_block:mu",
                                         "hiera_block:mu+qpool", "hiera_block:global",
                                         "hiera_block:global+qpool", "hiera_head"}));
}

}  // namespace
}  // namespace hwnas
