// `hwnas infer` and `hwnas measure` end to end.
#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "evaluators/npy.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

test::CommandResult hwnas_cli(const std::string& args) {
  return test::run_command(std::string(HWNAS_BIN) + " " + args);
}

TEST(EngineCli, InferMatchesTimmLogits) {
  const std::string g = test::golden_dir(), dir = test::make_temp_dir("hwnas-infer");
  const auto r = hwnas_cli("infer --space efficientformer --arch l1 --weights " + g +
                           "/efficientformer_l1.safetensors --input " + g +
                           "/efficientformer_l1.input.npy --output " + dir + "/y.npy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const NpyArray y = read_npy(dir + "/y.npy");
  const NpyArray expect = read_npy(g + "/efficientformer_l1.logits.npy");
  ASSERT_EQ(y.shape, expect.shape);
  double d = 0;
  for (std::size_t i = 0; i < y.data.size(); ++i)
    d = std::max(d, std::abs(static_cast<double>(y.data[i]) - expect.data[i]));
  EXPECT_LE(d, 1e-4);
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
}

}  // namespace
}  // namespace hwnas
