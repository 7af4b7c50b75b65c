// int8 parity with an independent implementation: the PyTorch fake-quant reference
// (tools/hwnas_tools/fake_quant.py) calibrated each net itself and wrote its plan and its int8
// logits to tests/data/int8/. The engine loads the plan (layers matched by execution order),
// runs the same input in int8 and must agree within one u8 step of the logits' range.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>

#include "core/error.h"
#include "evaluators/engine/model.h"
#include "evaluators/io/npy.h"
#include "evaluators/quant/int8_gemm.h"
#include "evaluators/quant/quantization.h"
#include "evaluators/runtime/thread_scope.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "spaces/hiera_network.h"
#include "spaces/registry.h"
#include "tests/evaluators/golden_model.h"
#include "tests/evaluators/supernet_golden.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

std::string int8_dir() { return test::test_data_dir() + "/int8/"; }

QuantPlan reference_plan(const std::string& stem) {
  std::ifstream f(int8_dir() + stem + ".plan.json");
  if (!f)
    throw Error("missing " + int8_dir() + stem + ".plan.json (tools/hwnas_tools/fake_quant.py)");
  return QuantPlan::from_json(nlohmann::json::parse(f));
}

void check_parity(const std::string& stem, const Network& net, const WeightStore& weights,
                  const Tensor& input) {
  if (!int8_supported()) GTEST_SKIP() << "no VNNI / AMX on this CPU: int8 is refused";
  const QuantPlan plan = reference_plan(stem);
  const NpyArray want = read_npy(int8_dir() + stem + ".int8_logits.npy");
  ThreadScope scope(2);
  Model model = Model::from_weights(net, weights);
  const Tensor fp32 = model.forward(input);
  quantize_int8(model, plan);
  const Tensor got = model.forward(input);
  ASSERT_EQ(got.size(), want.data.size());
  float lo = want.data[0], hi = want.data[0];
  for (float v : want.data) lo = std::min(lo, v), hi = std::max(hi, v);
  const double step = (hi - lo) / 255.0;
  double diff = 0, from_fp32 = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(got.data()[i]) - want.data[i]));
    from_fp32 = std::max(from_fp32, std::fabs(static_cast<double>(fp32.data()[i]) - want.data[i]));
  }
  std::cout << stem << ": " << plan.layers.size() << " layers (" << plan.per_channel_layers()
            << " per-channel), max |engine int8 - PyTorch fake-quant| = " << diff / step
            << " logit steps (" << diff << "); engine fp32 is " << from_fp32 / step
            << " steps away\n";
  EXPECT_LE(diff, step) << stem;
  // The comparison can tell int8 from fp32: the fp32 logits are further away than the bound.
  EXPECT_GT(from_fp32, diff) << stem;
}

TEST(Int8Parity, EfficientFormerL1) {
  const SearchSpace& space = get_space("efficientformer");
  const auto& g = test::golden_model("efficientformer_l1");
  check_parity("efficientformer_l1", space.decode(space.resolve("l1")), g.weights, g.input);
}

TEST(Int8Parity, HieraSmall) {
  const auto& g = test::golden_model("hiera_small");
  std::ifstream f(test::golden_dir() + "/hiera_small.json");
  const auto arch = nlohmann::json::parse(f).at("arch");
  check_parity("hiera_small", hiera_network(hiera_config_from_timm(arch), "turbovit"), g.weights,
               g.input);
}

void check_fmnist_subnets(const std::string& space_name) {
  const test::SupernetGolden g(space_name, "HWNAS_FMNIST_GOLDEN_DIR");
  ASSERT_TRUE(g.present()) << g.path();
  int checked = 0;
  for (const auto& [name, entry] : g.info().at("subnets").items()) {
    const Arch arch = g.arch(name);
    check_parity(space_name + "." + name, g.space().decode(arch),
                 slice_supernet(g.space(), arch, g.supernet()), g.input());
    ++checked;
  }
  EXPECT_EQ(checked, 5);  // s, m, l and two random subnets
}

TEST(Int8Parity, EfficientFormerFmnistSubnets) { check_fmnist_subnets("efficientformer-fmnist"); }
TEST(Int8Parity, TurboVitFmnistSubnets) { check_fmnist_subnets("turbovit-fmnist"); }

}  // namespace
}  // namespace hwnas
