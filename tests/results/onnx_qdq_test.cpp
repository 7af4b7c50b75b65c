// int8 members in ONNX (results/onnx/qdq.h) against ONNX Runtime, an implementation independent
// of hwnas: the QDQ graph of a net, run by the runtime, gives the engine's int8 logits and the
// PyTorch fake-quant reference's (tools/hwnas_tools/fake_quant.py, tests/data/int8/) within one
// u8 step of the logits' range, and is further than that from the fp32 logits. The plans are
// the reference's own, so that the export is checked against two implementations of the scheme.
// ElasticViT is judged against its own rounding sensitivity instead (check_qdq).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "evaluators/engine/model.h"
#include "evaluators/quant/int8_gemm.h"
#include "evaluators/quant/quantization.h"
#include "evaluators/runtime/thread_scope.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "results/onnx_export.h"
#include "spaces/hiera_network.h"
#include "spaces/registry.h"
#include "tests/evaluators/golden_model.h"
#include "tests/evaluators/int8_reference.h"
#include "tests/evaluators/supernet_golden.h"
#include "tests/support/onnx_runtime.h"
#include "tests/support/skip_without_int8.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

double max_abs_diff(const std::vector<float>& a, const float* b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(double(a[i]) - b[i]));
  return d;
}

int count_nodes(const std::string& path, const std::string& op) {
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromIstream(&in)) << path;
  return static_cast<int>(std::count_if(model.graph().node().begin(), model.graph().node().end(),
                                        [&](const auto& n) { return n.op_type() == op; }));
}

// ElasticViT (`tie_bound`): its int8 logits move by more than a step when one value crosses a
// rounding boundary, which the runtime's x / s and the engine's x * (1 / s) do at different
// values, so the bound is max(one step, twice the engine's own rounding sensitivity,
// int8_reference.h), and the PyTorch reference is only printed (int8_parity_test bounds it).
// `changed`: a plan made from the reference one (the PyTorch logits are then only printed).
void check_qdq(const std::string& modules, const std::string& stem, const Network& net,
               const WeightStore& weights, const Tensor& input, bool tie_bound = false,
               const QuantPlan* changed = nullptr) {
  const QuantPlan plan = changed ? *changed : test::reference_int8_plan(stem);
  const NpyArray reference = test::reference_int8_logits(stem);
  ThreadScope scope(2);
  const auto [fp32, engine] = test::engine_logits(net, weights, plan, input);

  const std::string dir = test::make_temp_dir("hwnas-qdq");
  const std::string path = dir + "/" + stem + ".onnx";
  export_onnx(net, weights, path, {.batch = input.n(), .int8 = &plan});
  // One QuantizeLinear per int8 layer: the GEMM layers and the depthwise ones (ElasticViT).
  EXPECT_EQ(count_nodes(path, "QuantizeLinear"),
            static_cast<int>(plan.layers.size() + plan.depthwise.size()))
      << stem;
  const std::vector<float> ort = test::run_ort(modules, path, input);
  ASSERT_EQ(ort.size(), engine.size()) << stem;
  const double step = test::logit_step(reference);
  const double bound =
      tie_bound ? std::max(step, 2 * test::int8_rounding_sensitivity(net, weights, plan, input))
                : step;
  const double to_engine = max_abs_diff(ort, engine.data());
  const double to_reference = max_abs_diff(ort, reference.data.data());
  const double to_fp32 = max_abs_diff(ort, fp32.data());
  std::cout << "[ qdq      ] " << stem << ": " << plan.layers.size() << " layers ("
            << plan.per_channel_layers() << " per-channel) and " << plan.depthwise.size()
            << " depthwise; ONNX Runtime vs engine int8 " << to_engine / step
            << " logit steps (bound " << bound / step << "), vs PyTorch fake-quant "
            << to_reference / step << ", vs engine fp32 " << to_fp32 / step << "\n";
  EXPECT_LE(to_engine, bound) << stem;
  if (!tie_bound) {
    EXPECT_LE(to_reference, step) << stem;
  }
  EXPECT_GT(to_fp32, to_engine) << stem;
  std::filesystem::remove_all(dir);
}

TEST(OnnxQdq, EfficientFormerL1GivesTheInt8Logits) {
  HWNAS_SKIP_WITHOUT_INT8();
  HWNAS_REQUIRE_ORT(modules);
  const SearchSpace& space = get_space("efficientformer");
  const auto& g = test::golden_model("efficientformer_l1");
  check_qdq(*modules, "efficientformer_l1", space.decode(space.resolve("l1")), g.weights, g.input);
}

TEST(OnnxQdq, HieraSmallGivesTheInt8Logits) {
  HWNAS_SKIP_WITHOUT_INT8();
  HWNAS_REQUIRE_ORT(modules);
  const auto& g = test::golden_model("hiera_small");
  std::ifstream f(test::golden_dir() + "/hiera_small.json");
  const auto arch = nlohmann::json::parse(f).at("arch");
  check_qdq(*modules, "hiera_small", hiera_network(hiera_config_from_timm(arch), "turbovit"),
            g.weights, g.input);
}

void check_fmnist_subnets(const std::string& modules, const std::string& space_name,
                          bool tie_bound = false) {
  const test::SupernetGolden g(space_name, "HWNAS_FMNIST_GOLDEN_DIR");
  ASSERT_TRUE(g.present()) << g.path();
  int checked = 0;
  for (const auto& [name, entry] : g.info().at("subnets").items()) {
    const Arch arch = g.arch(name);
    check_qdq(modules, space_name + "." + name, g.space().decode(arch),
              slice_supernet(g.space(), arch, g.supernet()), g.input(), tie_bound);
    ++checked;
  }
  EXPECT_EQ(checked, 5);  // s, m, l and two random subnets
}

TEST(OnnxQdq, FashionMnistSubnetsGiveTheInt8Logits) {
  HWNAS_SKIP_WITHOUT_INT8();
  HWNAS_REQUIRE_ORT(modules);
  for (const std::string space : {"efficientformer-fmnist", "turbovit-fmnist"})
    check_fmnist_subnets(*modules, space);
}

// ElasticViT's qkv runs as two GEMM layers and its squeeze-excite in fp32: the graph follows.
TEST(OnnxQdq, ElasticVitGivesTheEngineInt8Logits) {
  HWNAS_SKIP_WITHOUT_INT8();
  HWNAS_REQUIRE_ORT(modules);
  const SearchSpace& space = get_space("elasticvit");
  const auto& g = test::golden_model("elasticvit_t1");
  check_qdq(*modules, "elasticvit_t1", space.decode(space.resolve("t1")), g.weights, g.input, true);
  check_fmnist_subnets(*modules, "elasticvit-fmnist", true);
}

// --depthwise faster keeps some depthwise layers fp32 (QuantPlan::depthwise_fp32): the graph
// quantizes the others only, each in its place, and still gives the engine's int8 logits. (An
// int8-dwfaster run's export failed here before: the graph's 4th depthwise layer met a plan
// of 3.)
TEST(OnnxQdq, DepthwiseLayersAPlanKeepsFp32StayFp32InTheGraph) {
  HWNAS_SKIP_WITHOUT_INT8();
  HWNAS_REQUIRE_ORT(modules);
  // Every other depthwise layer, by execution order, back to fp32.
  const auto split = [](const std::string& stem) {
    QuantPlan plan = test::reference_int8_plan(stem);
    std::stable_sort(plan.depthwise.begin(), plan.depthwise.end(),
                     [](const DepthwiseLayerQuant& a, const DepthwiseLayerQuant& b) {
                       return a.order < b.order;
                     });
    std::vector<DepthwiseLayerQuant> kept;
    for (std::size_t i = 0; i < plan.depthwise.size(); ++i)
      (i % 2 ? plan.depthwise_fp32 : kept).push_back(plan.depthwise[i]);
    plan.depthwise = kept;
    return plan;
  };
  const SearchSpace& space = get_space("elasticvit");
  const auto& g = test::golden_model("elasticvit_t1");
  const QuantPlan t1 = split("elasticvit_t1");
  ASSERT_EQ(t1.depthwise.size() + t1.depthwise_fp32.size(), 14u);
  check_qdq(*modules, "elasticvit_t1", space.decode(space.resolve("t1")), g.weights, g.input, true,
            &t1);
  const test::SupernetGolden f("elasticvit-fmnist", "HWNAS_FMNIST_GOLDEN_DIR");
  ASSERT_TRUE(f.present()) << f.path();
  const Arch l = f.arch("l");
  const QuantPlan fl = split("elasticvit-fmnist.l");
  ASSERT_EQ(fl.depthwise.size() + fl.depthwise_fp32.size(), 20u);
  check_qdq(*modules, "elasticvit-fmnist.l", f.space().decode(l),
            slice_supernet(f.space(), l, f.supernet()), f.input(), true, &fl);
}

// Plans that do not fit are refused with the layer named, before anything is written.
TEST(OnnxQdq, APlanOfAnotherNetworkOrWithPerTensorWeightsIsRefused) {
  const SearchSpace& space = get_space("efficientformer");
  const auto& g = test::golden_model("efficientformer_l1");
  const Network net = space.decode(space.resolve("l1"));
  QuantPlan plan = test::reference_int8_plan("efficientformer_l1");
  const std::string dir = test::make_temp_dir("hwnas-qdq-bad");
  auto refused = [&](const QuantPlan& p, const std::string& words) {
    try {
      export_onnx(net, g.weights, dir + "/m.onnx", {.int8 = &p});
      ADD_FAILURE() << "accepted a plan that should be refused (" << words << ")";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(dir + "/m.onnx"));
  };
  QuantPlan fewer = plan;
  fewer.layers.pop_back();
  refused(fewer, "the plan belongs to another network");
  QuantPlan more = plan;
  more.layers.push_back(plan.layers.back());
  more.layers.back().order += 1;
  refused(more, "the plan belongs to another network");
  QuantPlan reshaped = plan;
  reshaped.layers[3].k += 1;
  refused(reshaped, "plan layer 3 is");
  QuantPlan per_tensor = plan;
  per_tensor.options.weights = Granularity::per_tensor;
  refused(per_tensor, "per-channel weights");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hwnas
