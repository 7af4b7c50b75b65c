// Golden parity with the PyTorch turbovit-fmnist (Hiera) supernet (hwnas_tools.make_goldens
// --space turbovit-fmnist, files in tests/data/turbovit-fmnist/): the Hiera slicing rule, the
// sliced subnets' logits, and subnet evaluation of a network without BatchNorm.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "evaluators/accuracy/subnet_evaluation.h"
#include "evaluators/engine/model.h"
#include "evaluators/io/npy.h"
#include "evaluators/runtime/thread_scope.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "tests/evaluators/supernet_golden.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

// HWNAS_TURBOVIT_FMNIST_GOLDEN_DIR overrides the folder (goldens of another checkpoint).
const test::SupernetGolden& files() {
  static const test::SupernetGolden f("turbovit-fmnist", "HWNAS_TURBOVIT_FMNIST_GOLDEN_DIR");
  return f;
}

class TurbovitFmnistGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(files().present()) << "missing " << files().path("subnets.json")
                                   << " (hwnas_tools.make_goldens --space turbovit-fmnist)";
  }
};

TEST_F(TurbovitFmnistGolden, SlicedSubnetEqualsPyTorchSlice) { files().check_sliced("s"); }

// The contract's s, m, l and two seeded random archs, as subnets.json lists them.
class TurbovitFmnistGoldenSubnet : public TurbovitFmnistGolden,
                                   public ::testing::WithParamInterface<const char*> {};

TEST_P(TurbovitFmnistGoldenSubnet, LogitsMatchPyTorch) { files().check_logits(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Subnets, TurbovitFmnistGoldenSubnet,
                         ::testing::Values("s", "m", "l", "random0", "random1"));

// SubnetEvaluator (what `hwnas eval` and the search run) on a LayerNorm-only network: no BN
// recalibration, with the reason, and PyTorch's test-set arg-max on the first images (s on
// 2,000, l on 500; all 10,000 through `hwnas eval --predictions`: longer than a unit test).
class TurbovitFmnistGoldenAgreement
    : public TurbovitFmnistGolden,
      public ::testing::WithParamInterface<std::pair<const char*, int>> {};

TEST_P(TurbovitFmnistGoldenAgreement, TestSetPredictionsAgree) {
  const auto [name, wanted] = GetParam();
  const NpyArray want = read_npy(files().path(files().info()["subnets"][name]["test_pred"]));
  const int n = std::min(wanted, static_cast<int>(want.data.size()));
  SubnetEvalOptions o;
  o.split = "test";
  o.seed = files().info()["split_seed"].get<std::uint64_t>();
  o.samples = static_cast<std::size_t>(n);
  o.batch = 250;
  const std::string ckpt =
      test::test_data_dir() + "/../../" + files().info()["checkpoint"].get<std::string>();
  const SubnetEvalResult e = SubnetEvaluator(files().space(), ckpt, o).evaluate(files().arch(name));
  EXPECT_FALSE(e.bn_recalibrated);
  EXPECT_NE(e.bn_note.find("no BatchNorm"), std::string::npos) << e.bn_note;
  ASSERT_EQ(e.accuracy.predictions.size(), static_cast<std::size_t>(n));
  std::size_t same = 0;
  for (int i = 0; i < n; ++i) same += e.accuracy.predictions[i] == static_cast<int>(want.data[i]);
  const double agree = static_cast<double>(same) / n;
  EXPECT_GE(agree, 0.999) << name;
  std::cout << "[ golden   ] " << name << " on " << n << " test images: agreement " << agree
            << ", top-1 engine " << e.accuracy.top1 << " (PyTorch on all "
            << files().info()["eval_images"]["test"] << ": "
            << files().info()["subnets"][name]["metrics"]["no_recal"]["test"]["top1"] << ")\n";
}

INSTANTIATE_TEST_SUITE_P(Subnets, TurbovitFmnistGoldenAgreement,
                         ::testing::Values(std::make_pair("s", 2000), std::make_pair("l", 500)),
                         [](const auto& info) { return std::string(info.param.first); });

}  // namespace
}  // namespace hwnas
