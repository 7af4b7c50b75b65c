// Model: golden parity with timm's EfficientFormer-L1, fast vs reference on random archs,
// weight errors, BlockRunner and measure.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "core/error.h"
#include "evaluators/engine/block_runner.h"
#include "evaluators/engine/measure.h"
#include "evaluators/engine/model.h"
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

const SearchSpace& space() { return get_space("efficientformer"); }

Network small_net(const std::string& json) {
  return space().decode(space().from_json(nlohmann::json::parse(json)));
}

Tensor random_input(const Network& net, int batch, std::uint64_t seed) {
  Tensor t(batch, net.input.h, net.input.w, net.input.c);
  Rng rng(seed);
  for (std::size_t i = 0; i < t.size(); ++i)
    t.data()[i] = static_cast<float>(2 * uniform_real(rng) - 1);
  return t;
}

// Golden stage name of each block whose output timm saves: the stem, the last block of each
// stage (the block before a downsample or the head).
std::map<std::size_t, std::string> stage_blocks(const Network& net) {
  std::map<std::size_t, std::string> out{{0, "stem"}};
  int stage = 0;
  for (std::size_t i = 1; i + 1 < net.blocks.size(); ++i) {
    const BlockKind next = net.blocks[i + 1].kind;
    if (next == BlockKind::downsample || next == BlockKind::head)
      out[i] = "stage" + std::to_string(stage++);
  }
  return out;
}

class GoldenL1 : public ::testing::Test {
 protected:
  static const test::GoldenModel& golden() { return test::golden_model("efficientformer_l1"); }
  void check(KernelPath path, int threads) {
    const Network net = space().decode(space().resolve("l1"));
    const auto ends = stage_blocks(net);
    ASSERT_EQ(ends.size(), 5u);
    test::check_golden_model(golden(), net, ends, path, threads);
  }
};

TEST_F(GoldenL1, FastPathMatchesTimm) { check(KernelPath::fast, 2); }
TEST_F(GoldenL1, FastPathOneThreadMatchesTimm) { check(KernelPath::fast, 1); }
TEST_F(GoldenL1, ReferencePathMatchesTimm) { check(KernelPath::reference, 1); }

TEST(Model, RandomArchsFastMatchReference) {
  // Sampled archs with depths capped at 2 and low resolution keep the reference path quick;
  // 96x96 gives a 3x3 token grid (odd), 64x64 a 2x2 one.
  Rng rng(11);
  for (int trial = 0; trial < 4; ++trial) {
    nlohmann::json j = space().to_json(space().sample(rng));
    for (auto& d : j["depths"]) d = std::min(d.get<int>(), 2);
    j["num_vit"] = std::min(j["num_vit"].get<int>(), j["depths"][3].get<int>());
    if (trial == 0) j["num_vit"] = j["depths"][3];
    j["resolution"] = trial % 2 ? 64 : 96;
    const Network net = space().decode(space().from_json(j));
    Model model = Model::random(net, 100 + trial);
    const Tensor in = random_input(net, trial == 3 ? 2 : 1, 7 + trial);
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
        << "arch " << j.dump();
  }
}

TEST(Model, RandomInitIsDeterministicAndSeeded) {
  const Network net = small_net(
      R"({"space":"efficientformer","embed_dims":[32,64,128,256],"depths":[1,1,1,2],"num_vit":1,"resolution":64})");
  const Tensor in = random_input(net, 1, 3);
  const Tensor a = Model::random(net, 5).forward(in);
  const Tensor b = Model::random(net, 5).forward(in);
  const Tensor c = Model::random(net, 6).forward(in);
  EXPECT_EQ(max_abs_diff(a.data(), b.data(), a.size()), 0.0);
  EXPECT_GT(max_abs_diff(a.data(), c.data(), a.size()), 0.0);
  // from_weights of the recorded random tensors is the same model.
  const Tensor d = Model::from_weights(net, Model::random_weights(net, 5)).forward(in);
  EXPECT_EQ(max_abs_diff(a.data(), d.data(), a.size()), 0.0);
}

TEST(Model, ForwardDoesNotReallocateAndChecksInput) {
  const Network net = small_net(
      R"({"space":"efficientformer","embed_dims":[32,64,128,256],"depths":[1,1,1,1],"num_vit":0,"resolution":64})");
  Model model = Model::random(net, 1);
  const Tensor in = random_input(net, 1, 1);
  Tensor logits;
  model.forward(in, logits);
  const float* p = logits.data();
  const std::vector<float> first(logits.data(), logits.data() + logits.size());
  model.forward(in, logits);
  EXPECT_EQ(logits.data(), p);
  EXPECT_EQ(max_abs_diff(first.data(), logits.data(), logits.size()), 0.0);
  EXPECT_EQ(logits.c(), 1000);
  EXPECT_THROW(model.forward(Tensor(1, 32, 32, 3)), Error);
}

std::string error_of(const Network& net, const WeightStore& w) {
  try {
    Model::from_weights(net, w);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Model, WeightErrorsNameTheTensor) {
  const Network net = small_net(
      R"({"space":"efficientformer","embed_dims":[32,64,128,256],"depths":[1,1,2,2],"num_vit":1,"resolution":64})");
  const WeightStore good = Model::random_weights(net, 3);
  EXPECT_TRUE(
      good.contains("stages.3.blocks.2.token_mixer.attention_biases"));  // Flat takes index 1
  EXPECT_EQ(good.at("stages.3.blocks.2.token_mixer.attention_biases").shape,
            (std::vector<std::int64_t>{8, 4}));
  EXPECT_EQ(error_of(net, good), "");

  WeightStore missing = good;
  missing.tensors.erase("stages.2.blocks.1.mlp.fc2.weight");
  EXPECT_NE(error_of(net, missing).find("missing tensor 'stages.2.blocks.1.mlp.fc2.weight'"),
            std::string::npos);

  WeightStore unknown = good;
  unknown.tensors["stages.9.blocks.0.ls1.gamma"] = StoredTensor{{32}, std::vector<float>(32)};
  EXPECT_NE(error_of(net, unknown).find("unexpected tensor 'stages.9.blocks.0.ls1.gamma'"),
            std::string::npos);

  WeightStore shaped = good;
  shaped.tensors["head.weight"] = StoredTensor{{1000, 255}, std::vector<float>(255000)};
  EXPECT_NE(error_of(net, shaped).find("'head.weight' has shape (1000, 255)"), std::string::npos);

  // timm's integer buffers are ignored if present.
  WeightStore buffers = good;
  buffers.tensors["stem.norm1.num_batches_tracked"] = StoredTensor{{}, {0}};
  EXPECT_EQ(error_of(net, buffers), "");

  // The golden L1 file does not fit a smaller arch.
  const WeightStore l1 = load_safetensors(test::golden_dir() + "/efficientformer_l1.safetensors");
  EXPECT_NE(error_of(net, l1), "");
}

TEST(BlockRunner, RunsEveryKindLikeTheModel) {
  const Network net = small_net(
      R"({"space":"efficientformer","embed_dims":[32,64,128,256],"depths":[1,1,1,2],"num_vit":1,"resolution":64})");
  std::set<BlockKind> kinds;
  for (const auto& b : net.blocks) {
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
  EXPECT_EQ(kinds.size(), 6u);  // every EfficientFormer kind
  EXPECT_THROW(BlockRunner(net.blocks[0], 0, 1), Error);
  // A spec the engine cannot build (a 4x4 mask unit on a 6x6 map) is a clear error, not a crash.
  EXPECT_THROW(
      BlockRunner(BlockSpec::parse("hiera_block:cin=8,c=16,h=6,w=6,heads=2,mu=4,qpool=1,mlp=2"), 1,
                  1),
      Error);
}

TEST(Measure, ReportsTimingsAndRejectsBadOptions) {
  const Network net = small_net(
      R"({"space":"efficientformer","embed_dims":[32,64,128,256],"depths":[1,1,1,1],"num_vit":1,"resolution":64})");
  MeasureOptions opt;
  opt.threads = 1;
  opt.timing.warmup = 1;
  opt.timing.min_repeats = 3;
  opt.timing.min_time_ms = 0;
  const TimingStats s = measure_network(net, opt);
  EXPECT_EQ(s.repeats, 3);
  EXPECT_GT(s.median_ms, 0.0);
  EXPECT_LE(s.p10_ms, s.median_ms);
  EXPECT_LE(s.median_ms, s.p90_ms);
  const TimingStats b = measure_block(net.blocks[1], opt);
  EXPECT_GT(b.median_ms, 0.0);
  opt.threads = 0;
  EXPECT_THROW(measure_network(net, opt), Error);
  opt.threads = 1;
  opt.batch = 0;
  EXPECT_THROW(measure_block(net.blocks[1], opt), Error);
}

}  // namespace
}  // namespace hwnas
