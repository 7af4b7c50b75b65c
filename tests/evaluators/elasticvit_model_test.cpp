// ElasticViT in the engine: golden parity with microsoft/Moonlit's subnet T1 (logits and stage
// outputs), the official parameter names, fast vs reference on random subnets at two resolutions,
// random-weight round trip and every block kind in isolation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "evaluators/blocks/elasticvit_blocks.h"
#include "evaluators/engine/block_runner.h"
#include "evaluators/engine/model.h"
#include "evaluators/families/model_family.h"
#include "evaluators/io/npy.h"
#include "evaluators/io/npz.h"
#include "evaluators/io/safetensors.h"
#include "evaluators/runtime/thread_scope.h"
#include "spaces/registry.h"
#include "tests/evaluators/golden_model.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

using test::max_abs_diff;
using test::nchw_to_nhwc;

const SearchSpace& space() { return get_space("elasticvit"); }

double max_abs(const float* a, std::size_t n) {
  double m = 0;
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::abs(static_cast<double>(a[i])));
  return m;
}
Tensor random_input(const Network& net, int batch, std::uint64_t seed) {
  Tensor t(batch, net.input.h, net.input.w, net.input.c);
  Rng rng(seed);
  for (std::size_t i = 0; i < t.size(); ++i)
    t.data()[i] = static_cast<float>(2 * uniform_real(rng) - 1);
  return t;
}

// The golden stage of each block that ends one (stages.npz: "stem" after conv_stem, "stage{s}"
// after feature_exactor.{s}), found from the blocks' official name prefixes.
std::map<std::size_t, std::string> stage_ends(const Network& net) {
  const auto prefixes = elasticvit_param_prefixes(net);
  std::map<std::string, std::size_t> last;
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    const std::string& p = prefixes[i];
    if (p.rfind("conv_stem.", 0) == 0) last["stem"] = i;
    if (p.rfind("feature_exactor.", 0) == 0) last["stage" + p.substr(16, p.find('.', 16) - 16)] = i;
  }
  std::map<std::size_t, std::string> out;
  for (const auto& [name, i] : last) out[i] = name;
  return out;
}

class GoldenT1 : public ::testing::Test {
 protected:
  static const test::GoldenModel& golden() { return test::golden_model("elasticvit_t1"); }
  void check(KernelPath path, int threads) {
    const Network net = space().decode(space().resolve("t1"));
    const auto ends = stage_ends(net);
    ASSERT_EQ(ends.size(), 7u);
    test::check_golden_model(golden(), net, ends, path, threads);
  }
};

TEST_F(GoldenT1, FastPathMatchesMoonlit) { check(KernelPath::fast, 2); }
TEST_F(GoldenT1, FastPathOneThreadMatchesMoonlit) { check(KernelPath::fast, 1); }
TEST_F(GoldenT1, ReferencePathMatchesMoonlit) { check(KernelPath::reference, 1); }

TEST(ElasticVitNames, PrefixesFollowTheGoldenBlockList) {
  // The golden json lists the code's modules in forward order; a transformer block with an
  // "entry" holds the entry MBConv (".reduction") and its attention layer.
  std::ifstream f(test::golden_dir() + "/elasticvit_t1.json");
  const auto j = nlohmann::json::parse(f);
  std::vector<std::string> expect;
  for (const auto& b : j["blocks"]) {
    const std::string name = b["name"];
    if (name == "first_conv" || name == "head")
      expect.push_back("");
    else if (b.contains("entry")) {
      expect.push_back(name + ".reduction.");
      expect.push_back(name + ".");
    } else {
      expect.push_back(name + ".");
    }
  }
  const Network net = space().decode(space().resolve("t1"));
  EXPECT_EQ(param_prefixes(net), expect);
  // Deeper stages count their layers on: T2 with depth 2 has layers 0..3 after its entry.
  const auto p = param_prefixes(space().decode(space().resolve("l2")));
  EXPECT_NE(std::find(p.begin(), p.end(), "feature_exactor.3.layers.3."), p.end());
  EXPECT_NE(std::find(p.begin(), p.end(), "feature_exactor.1.layers.3.0."), p.end());  // C2 depth 4
  EXPECT_NE(std::find(p.begin(), p.end(), "conv_stem.layers.0.0."), p.end());
}

TEST(ElasticVitModel, RandomArchsFastMatchReference) {
  // Sampled subnets with depths capped at 2 (reference path speed) at 128 px (grids 8, 8, 4, 2)
  // and 224 px (grids 14, 14, 7, 4: odd 7 -> 4 in T4 uses the padded pooling shortcut).
  Rng rng(31);
  for (int trial = 0; trial < 4; ++trial) {
    nlohmann::json j = space().to_json(space().sample(rng));
    for (auto& d : j["depths"]) d = std::min(d.get<int>(), 2);
    j["resolution"] = trial % 2 ? 224 : 128;
    const Network net = space().decode(space().from_json(j));
    Model model = Model::random(net, 200 + trial);
    const Tensor in = random_input(net, trial == 2 ? 2 : 1, 17 + trial);
    ThreadScope scope(2);
    model.set_kernel_path(KernelPath::fast);
    const Tensor fast = model.forward(in);
    model.set_kernel_path(KernelPath::reference);
    const Tensor ref = model.forward(in);
    const double scale = max_abs(ref.data(), ref.size());
    EXPECT_GT(scale, 0.0);
    EXPECT_LE(max_abs_diff(fast.data(), ref.data(), ref.size()), 1e-4 * std::max(1.0, scale))
        << "arch " << j.dump();
  }
}

TEST(ElasticVitModel, RandomWeightsRoundTripAndErrorsNameTheTensor) {
  const Network net = space().decode(space().resolve("t1"));
  const WeightStore w = Model::random_weights(net, 4);
  // The random init draws exactly the golden file's tensors, under the same names and shapes.
  const WeightStore golden = load_safetensors(test::golden_dir() + "/elasticvit_t1.safetensors");
  std::set<std::string> expected;
  for (const auto& [name, t] : golden.tensors) {
    expected.insert(name);
    ASSERT_TRUE(w.contains(name)) << name;
    EXPECT_EQ(w.at(name).shape, t.shape) << name;
  }
  EXPECT_EQ(w.tensors.size(), expected.size());
  const Tensor in = random_input(net, 1, 5);
  const Tensor a = Model::random(net, 4).forward(in);
  const Tensor b = Model::from_weights(net, w).forward(in);
  EXPECT_EQ(max_abs_diff(a.data(), b.data(), a.size()), 0.0);
  WeightStore missing = w;
  missing.tensors.erase("feature_exactor.4.layers.0.dw_v_conv.weight");
  try {
    Model::from_weights(net, missing);
    ADD_FAILURE() << "missing tensor accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'feature_exactor.4.layers.0.dw_v_conv.weight'"),
              std::string::npos);
  }
}

TEST(ElasticVitModel, BlockRunnerRunsEveryKind) {
  const Network net = space().decode(space().resolve("t2"));
  std::set<BlockKind> kinds;
  for (const auto& b : net.blocks) {
    if (kinds.count(b.kind) && b.kind != BlockKind::evit_mbconv) continue;
    BlockRunner r(b, 2, 1);
    r.run();
    const FeatureShape o = block_output_shape(b);
    EXPECT_EQ(r.output().size(), static_cast<std::size_t>(2) * o.h * o.w * o.c) << b.key();
    bool finite = true;
    for (std::size_t i = 0; i < r.output().size(); ++i)
      finite &= std::isfinite(r.output().data()[i]);
    EXPECT_TRUE(finite) << b.key();
    kinds.insert(b.kind);
  }
  EXPECT_EQ(kinds.size(), 5u);  // every ElasticViT kind
}

}  // namespace
}  // namespace hwnas
