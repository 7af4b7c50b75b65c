// The depthwise rule as part of a precision's name, and the per-shape timings a latency table
// stores: remembered timings decide the layers instead of a fresh timing, so the subnets a search
// scores are the models its int8-dwfaster table priced (issue 19). Each test runs in a process
// of its own (gtest_discover_tests), so remembered timings do not reach other tests; the tests
// hold in one process too.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "evaluators/accuracy/subnet_evaluation.h"
#include "evaluators/datasets/fashion_mnist.h"
#include "evaluators/quant/depthwise_speed.h"
#include "evaluators/quant/engine_precision.h"
#include "evaluators/quant/quant_params.h"
#include "spaces/registry.h"
#include "tests/support/skip_without_fashion_mnist.h"
#include "tests/support/skip_without_int8.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

std::string error_of(const auto& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(EnginePrecision, NamesRoundTripAndUnknownOnesAreRefused) {
  EXPECT_FALSE(parse_engine_precision("fp32").int8);
  for (const char* name : {"int8", "int8-dwfaster", "int8-dwfp32"}) {
    const EnginePrecision p = parse_engine_precision(name);
    EXPECT_TRUE(p.int8) << name;
    EXPECT_EQ(engine_precision_name(p), name);
  }
  EXPECT_EQ(parse_engine_precision("int8").depthwise, DepthwisePrecision::int8);
  EXPECT_EQ(parse_engine_precision("int8-dwfaster").depthwise, DepthwisePrecision::faster);
  EXPECT_EQ(parse_engine_precision("int8-dwfp32").depthwise, DepthwisePrecision::fp32);
  const RunPrecision mixed = parse_run_precision("mixed-dwfaster");
  EXPECT_TRUE(mixed.mixed && mixed.engine.int8);
  EXPECT_EQ(mixed.engine.depthwise, DepthwisePrecision::faster);
  EXPECT_EQ(parse_run_precision("mixed").engine.depthwise, DepthwisePrecision::int8);
  EXPECT_EQ(mixed_precision_name(DepthwisePrecision::fp32), "mixed-dwfp32");
  EXPECT_FALSE(parse_run_precision("int8-dwfaster").mixed);
  EXPECT_FALSE(parse_run_precision("fp32").engine.int8);
  EXPECT_NE(error_of([] { parse_run_precision("mixed-int8"); }).find("mixed-dwfaster"),
            std::string::npos);
  for (const char* bad : {"int8-dwint8", "int4", "", "INT8", "mixed"})
    EXPECT_NE(error_of([&] { parse_engine_precision(bad); }).find("use fp32, int8, int8-dwfaster"),
              std::string::npos)
        << bad;
}

TEST(DepthwiseSpeeds, RememberedTimingsAreReturnedWithoutTiming) {
  HWNAS_SKIP_WITHOUT_INT8();
  const DepthwiseConv2dParams p{.c = 7, .kernel = 3, .stride = 1, .pad = 1};
  const std::vector<float> weight(7 * 9, 0.25f), bias(7, 0.0f);
  const DepthwiseLayer layer(p, weight.data(), bias.data());
  ActivationQuant act;
  act.scale = {0.01f};
  act.zero_point = {128};
  // 2 and 5 ms: a real timing of a 5x5x7 layer takes microseconds.
  remember_depthwise_speeds(
      {{"c=7,k=3,s=1,p=1,act=0,h=5,w=5", {{"fp32_ms", 2.0}, {"int8_ms", 5.0}}}});
  const DepthwiseSpeed s = time_depthwise_layer(layer, act, 5, 5);
  EXPECT_EQ(s.fp32_ms, 2.0);
  EXPECT_EQ(s.int8_ms, 5.0);
  EXPECT_FALSE(int8_depthwise_pays(s));
  // Another size of the same layer is timed for real, and written back in the same form.
  const DepthwiseSpeed timed = time_depthwise_layer(layer, act, 6, 6);
  EXPECT_LT(timed.fp32_ms, 1.0);
  const nlohmann::json all = depthwise_speeds_json();
  EXPECT_EQ(all.at("c=7,k=3,s=1,p=1,act=0,h=5,w=5").at("int8_ms"), 5.0);
  EXPECT_EQ(all.at("c=7,k=3,s=1,p=1,act=0,h=6,w=6").at("fp32_ms"), timed.fp32_ms);
}

TEST(DepthwiseSpeeds, MalformedTimingsAreRefusedByNameAndNoneIsTaken) {
  const auto refuse = [](const nlohmann::json& j) {
    return error_of([&] { remember_depthwise_speeds(j); });
  };
  EXPECT_NE(refuse(nlohmann::json::array()).find("expected an object"), std::string::npos);
  EXPECT_NE(refuse({{"c=7,k=3", {{"fp32_ms", 1.0}, {"int8_ms", 1.0}}}}).find("'c=7,k=3'"),
            std::string::npos);
  EXPECT_NE(refuse({{"c=7,k=3,s=1,p=1,act=0,h=5,w=5x", {{"fp32_ms", 1.0}, {"int8_ms", 1.0}}}})
                .find("is not a layer shape"),
            std::string::npos);
  // A good entry beside a bad one: the batch is refused whole.
  const std::string negative =
      refuse({{"c=8,k=3,s=1,p=1,act=0,h=5,w=5", {{"fp32_ms", 1.0}, {"int8_ms", 1.0}}},
              {"c=9,k=3,s=1,p=1,act=0,h=5,w=5", {{"fp32_ms", 1.0}, {"int8_ms", -1.0}}}});
  EXPECT_NE(negative.find("'c=9,k=3,s=1,p=1,act=0,h=5,w=5' needs a positive number 'int8_ms'"),
            std::string::npos)
      << negative;
  EXPECT_NE(refuse({{"c=9,k=3,s=1,p=1,act=0,h=5,w=5", {{"fp32_ms", 1.0}}}}).find("'int8_ms'"),
            std::string::npos);
  EXPECT_FALSE(depthwise_speeds_json().contains("c=8,k=3,s=1,p=1,act=0,h=5,w=5"));
}

std::string elasticvit_fmnist_supernet() {
  return test::test_data_dir() + "/../../data/supernets/elasticvit-fmnist.safetensors";
}

// Plans made quickly: BN recalibrated on 64 images, int8 calibrated on 16.
SubnetEvalOptions small_int8_eval(const std::string& precision) {
  SubnetEvalOptions o;
  o.recal_images = 64;
  o.calibration_images = 16;
  o.precision = precision;
  return o;
}

// elasticvit-fmnist's s has 11 depthwise layers. With precision int8-dwfaster its plan follows
// the timings the process holds: all kept fp32 when int8 is remembered slower, all int8 when
// faster. int8-dwfp32 quantizes none and times none.
TEST(DepthwiseSpeeds, Int8DwfasterPlansFollowTheRememberedTimings) {
  HWNAS_SKIP_WITHOUT_INT8();
  HWNAS_SKIP_WITHOUT_FASHION_MNIST();
  const SearchSpace& space = get_space("elasticvit-fmnist");
  const std::string weights = elasticvit_fmnist_supernet();
  const Arch arch = space.resolve("s");
  SubnetEvalOptions o = small_int8_eval("int8-dwfaster");
  const QuantPlan timed = SubnetEvaluator(space, weights, o).int8_plan(arch);
  EXPECT_EQ(timed.depthwise.size() + timed.depthwise_fp32.size(), 11u);
  const nlohmann::json shapes = depthwise_speeds_json();
  ASSERT_FALSE(shapes.empty());
  const auto remember_all = [&](double int8_over_fp32) {
    nlohmann::json j = shapes;
    for (auto& [key, v] : j.items()) v["int8_ms"] = int8_over_fp32 * v["fp32_ms"].get<double>();
    remember_depthwise_speeds(j);
  };
  remember_all(2.0);
  const QuantPlan slower = SubnetEvaluator(space, weights, o).int8_plan(arch);
  EXPECT_EQ(slower.depthwise.size(), 0u);
  EXPECT_EQ(slower.depthwise_fp32.size(), 11u);
  remember_all(0.5);
  const QuantPlan faster = SubnetEvaluator(space, weights, o).int8_plan(arch);
  EXPECT_EQ(faster.depthwise.size(), 11u);
  EXPECT_EQ(faster.depthwise_fp32.size(), 0u);
  o.precision = "int8-dwfp32";
  const QuantPlan none = SubnetEvaluator(space, weights, o).int8_plan(arch);
  EXPECT_EQ(none.depthwise.size(), 0u);
  EXPECT_EQ(none.depthwise_fp32.size(), 0u);
  EXPECT_EQ(none.layers.size(), faster.layers.size());
}

// mixed-dwfaster: the int8 stages' depthwise layers follow the remembered timings in the same
// way (s with every precision gene at int8, so all 11 layers are in int8 stages).
TEST(DepthwiseSpeeds, MixedDwfasterPlansFollowTheRememberedTimingsToo) {
  HWNAS_SKIP_WITHOUT_INT8();
  HWNAS_SKIP_WITHOUT_FASHION_MNIST();
  const SearchSpace& space = get_space("elasticvit-fmnist+precision");
  const std::string weights = elasticvit_fmnist_supernet();
  nlohmann::json j = space.to_json(space.resolve("s"));
  for (auto& gene : j.at("precision")) gene = "int8";
  const Arch arch = space.from_json(j);
  const SubnetEvalOptions o = small_int8_eval("mixed-dwfaster");
  const QuantPlan timed = SubnetEvaluator(space, weights, o).int8_plan(arch);
  EXPECT_EQ(timed.depthwise.size() + timed.depthwise_fp32.size(), 11u);
  nlohmann::json slower = depthwise_speeds_json();
  for (auto& [key, v] : slower.items()) v["int8_ms"] = 2 * v["fp32_ms"].get<double>();
  remember_depthwise_speeds(slower);
  const QuantPlan plan = SubnetEvaluator(space, weights, o).int8_plan(arch);
  EXPECT_EQ(plan.depthwise.size(), 0u);
  EXPECT_EQ(plan.depthwise_fp32.size(), 11u);
}

}  // namespace
}  // namespace hwnas
