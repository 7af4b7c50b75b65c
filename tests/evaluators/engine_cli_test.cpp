// `hwnas infer` and `hwnas measure` end to end.
#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/rng.h"
#include "evaluators/engine/model.h"
#include "evaluators/io/npy.h"
#include "evaluators/io/safetensors.h"
#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

test::CommandResult hwnas_cli(const std::string& args) {
  return test::run_command(std::string(HWNAS_BIN) + " " + args);
}

// Runs `hwnas infer` on golden model `name` and returns max |logits - golden logits|.
double infer_golden_diff(const std::string& space, const std::string& arch,
                         const std::string& name) {
  const std::string g = test::golden_dir(), dir = test::make_temp_dir("hwnas-infer");
  const auto r =
      hwnas_cli("infer --space " + space + " --arch " + arch + " --weights " + g + "/" + name +
                ".safetensors --input " + g + "/" + name + ".input.npy --output " + dir + "/y.npy");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return INFINITY;
  const NpyArray y = read_npy(dir + "/y.npy");
  const NpyArray expect = read_npy(g + "/" + name + ".logits.npy");
  EXPECT_EQ(y.shape, expect.shape);
  if (y.shape != expect.shape) return INFINITY;
  double d = 0;
  for (std::size_t i = 0; i < y.data.size(); ++i)
    d = std::max(d, std::abs(static_cast<double>(y.data[i]) - expect.data[i]));
  return d;
}

TEST(EngineCli, InferMatchesTimmLogits) {
  EXPECT_LE(infer_golden_diff("efficientformer", "l1", "efficientformer_l1"), 1e-4);
}

TEST(EngineCli, InferMatchesMoonlitElasticVitLogits) {
  EXPECT_LE(infer_golden_diff("elasticvit", "t1", "elasticvit_t1"), 1e-4);
  // The T1 weights do not fit another subnet (T1 with MLP ratio 3 in T1): an error naming fc1.
  const std::string g = test::golden_dir(), dir = test::make_temp_dir("hwnas-infer");
  const std::string arch =
      "'{\"space\":\"elasticvit\",\"resolution\":128,\"widths\":[16,24,32,64,96,176,272],"
      "\"depths\":[1,2,3,1,1,1,1],\"kernel\":[3,3,3],\"expand\":[3,3],\"mlp_ratio\":[3,2,3,4],"
      "\"v_scale\":[2,2,2,2]}'";
  const auto r = hwnas_cli("infer --space elasticvit --arch " + arch + " --weights " + g +
                           "/elasticvit_t1.safetensors --input " + g +
                           "/elasticvit_t1.input.npy --output " + dir + "/y.npy");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("error: weights: tensor 'feature_exactor.2.layers.1.fc1.weight'"),
            std::string::npos)
      << r.err;
}

TEST(EngineCli, InferBadInputExitsTwo) {
  const std::string g = test::golden_dir(), dir = test::make_temp_dir("hwnas-infer");
  // The logits file is float32 but not an image batch.
  auto r = hwnas_cli("infer --arch l1 --weights " + g + "/efficientformer_l1.safetensors --input " +
                     g + "/efficientformer_l1.logits.npy --output " + dir + "/y.npy");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("error: input"), std::string::npos) << r.err;
  r = hwnas_cli("infer --arch l3 --weights " + g + "/efficientformer_l1.safetensors --input " + g +
                "/efficientformer_l1.input.npy --output " + dir + "/y.npy");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("error: weights"), std::string::npos) << r.err;
  r = hwnas_cli("infer --arch l1 --weights " + dir + "/none.safetensors --input " + g +
                "/efficientformer_l1.input.npy --output " + dir + "/y.npy");
  EXPECT_EQ(r.exit_code, 2);
}

TEST(EngineCli, MeasureJson) {
  const auto r = hwnas_cli(
      "measure --space efficientformer --arch "
      "'{\"space\":\"efficientformer\",\"embed_dims\":[32,64,128,256],\"depths\":[1,1,1,1],"
      "\"num_vit\":1,\"resolution\":64}' --threads 1 --warmup 1 --repeats 5 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("repeats"), 5);
  EXPECT_EQ(j.at("threads"), 1);
  EXPECT_GT(j.at("latency_ms").get<double>(), 0.0);
  EXPECT_LE(j.at("p10_ms").get<double>(), j.at("latency_ms").get<double>());
  EXPECT_LE(j.at("latency_ms").get<double>(), j.at("p90_ms").get<double>());
  EXPECT_EQ(hwnas_cli("measure --arch l1 --threads 0").exit_code, 2);
  const auto e =
      hwnas_cli("measure --space elasticvit --arch t1 --threads 1 --warmup 1 --repeats 3 --json");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_GT(nlohmann::json::parse(e.out).at("latency_ms").get<double>(), 0.0);
}

TEST(EngineCli, InferAndMeasureTurboVit) {
  // turbovit-ref with seeded random weights saved under timm's Hiera names: `hwnas infer` must
  // give the in-process engine's logits, and `hwnas measure` must run the network.
  const std::string dir = test::make_temp_dir("hwnas-infer-turbovit");
  const SearchSpace& space = get_space("turbovit");
  const Network net = space.decode(space.resolve("turbovit-ref"));
  const WeightStore weights = Model::random_weights(net, 4);
  save_safetensors(dir + "/w.safetensors", weights);
  NpyArray image{{1, 3, 224, 224}, std::vector<float>(3 * 224 * 224)};
  Rng rng(5);
  for (auto& v : image.data) v = static_cast<float>(2 * uniform_real(rng) - 1);
  write_npy(dir + "/x.npy", image);
  const auto r = hwnas_cli("infer --space turbovit --arch turbovit-ref --weights " + dir +
                           "/w.safetensors --input " + dir + "/x.npy --output " + dir + "/y.npy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Tensor nhwc(1, 224, 224, 3);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 224 * 224; ++i) nhwc.data()[i * 3 + c] = image.data[c * 224 * 224 + i];
  const Tensor expect = Model::from_weights(net, weights).forward(nhwc);
  const NpyArray y = read_npy(dir + "/y.npy");
  ASSERT_EQ(y.data.size(), expect.size());
  double d = 0, scale = 0;
  for (std::size_t i = 0; i < y.data.size(); ++i) {
    d = std::max(d, std::abs(static_cast<double>(y.data[i]) - expect.data()[i]));
    scale = std::max(scale, std::abs(static_cast<double>(expect.data()[i])));
  }
  EXPECT_GT(scale, 0.0);
  EXPECT_LE(d, 1e-5 * std::max(1.0, scale));
  const auto m =
      hwnas_cli("measure --space turbovit --arch turbovit-ref --warmup 1 --repeats 2 --json");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_GT(nlohmann::json::parse(m.out).at("latency_ms").get<double>(), 0.0);
}

}  // namespace
}  // namespace hwnas
