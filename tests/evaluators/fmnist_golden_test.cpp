// Golden parity with the PyTorch efficientformer-fmnist supernet (hwnas_tools.make_goldens,
// files in tests/data/efficientformer-fmnist/): Fashion-MNIST preprocessing, subnet slicing,
// logits with and without BN recalibration, recalibrated BN statistics, test-set predictions.
#include <gtest/gtest.h>

#include "tests/evaluators/supernet_golden.h"

namespace hwnas {
namespace {

const test::SupernetGolden& golden() {
  // HWNAS_FMNIST_GOLDEN_DIR overrides the folder (goldens of another checkpoint while developing).
  static const test::SupernetGolden g("efficientformer-fmnist", "HWNAS_FMNIST_GOLDEN_DIR");
  return g;
}

class FmnistGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(golden().present())
        << "missing " << golden().path("subnets.json") << " (hwnas_tools.make_goldens)";
  }
};

TEST_F(FmnistGolden, PreprocessingMatchesPyTorch) { golden().check_preprocessing(); }

TEST_F(FmnistGolden, SlicedSubnetEqualsPyTorchSlice) { golden().check_sliced("s"); }

// One subnet per test (each recalibrates on 512 images): the contract's s, m, l and two seeded
// random archs, as subnets.json lists them.
class FmnistGoldenSubnet : public FmnistGolden,
                           public ::testing::WithParamInterface<const char*> {};

TEST_P(FmnistGoldenSubnet, LogitsWithAndWithoutRecalibration) { golden().check_logits(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Subnets, FmnistGoldenSubnet,
                         ::testing::Values("s", "m", "l", "random0", "random1"));

TEST_F(FmnistGolden, RecalibratedBatchNormStatistics) { golden().check_bn_statistics("m"); }

// Test-set agreement with PyTorch's arg-max for the smallest subnet on the first 2,000 test
// images (all 10,000, and subnet l, through `hwnas eval --predictions`: longer than a unit test
// should run).
TEST_F(FmnistGolden, TestSetPredictionsAgree) { golden().check_test_predictions("s", 2000); }

}  // namespace
}  // namespace hwnas
