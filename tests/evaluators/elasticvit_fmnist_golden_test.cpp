// Golden parity with the PyTorch elasticvit-fmnist supernet (hwnas_tools.make_goldens --space
// elasticvit-fmnist, files in tests/data/elasticvit-fmnist/): the 4x Fashion-MNIST
// preprocessing, ElasticViT slicing, logits with and without BN recalibration, recalibrated BN
// statistics (first conv, MBConvs with SE, entry MBConvs, head BN over tokens), test predictions.
#include <gtest/gtest.h>

#include "spaces/elasticvit_space.h"
#include "tests/evaluators/supernet_golden.h"

namespace hwnas {
namespace {

const test::SupernetGolden& golden() {
  // HWNAS_EVIT_FMNIST_GOLDEN_DIR overrides the folder (goldens of another checkpoint).
  static const test::SupernetGolden g("elasticvit-fmnist", "HWNAS_EVIT_FMNIST_GOLDEN_DIR");
  return g;
}

class ElasticVitFmnistGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(golden().present()) << "missing " << golden().path("subnets.json")
                                    << " (hwnas_tools.make_goldens --space elasticvit-fmnist)";
  }
};

// hwnas's params and reference MFLOPs of every golden subnet equal the PyTorch model's parameter
// count and the tools' FLOPs count (two independent implementations of the space).
TEST_F(ElasticVitFmnistGolden, CountsMatchPyTorch) {
  const auto& space = dynamic_cast<const ElasticVitSpace&>(golden().space());
  for (const auto& [name, entry] : golden().info()["subnets"].items()) {
    const Arch a = golden().arch(name);
    EXPECT_EQ(space.decode(a).params(), entry["params"].get<std::int64_t>()) << name;
    EXPECT_NEAR(space.reference_mflops(a), entry["reference_mflops"].get<double>(), 1e-6) << name;
  }
}

TEST_F(ElasticVitFmnistGolden, PreprocessingMatchesPyTorch) { golden().check_preprocessing(); }

TEST_F(ElasticVitFmnistGolden, SlicedSubnetEqualsPyTorchSlice) { golden().check_sliced("s"); }

class ElasticVitFmnistGoldenSubnet : public ElasticVitFmnistGolden,
                                     public ::testing::WithParamInterface<const char*> {};

TEST_P(ElasticVitFmnistGoldenSubnet, LogitsWithAndWithoutRecalibration) {
  golden().check_logits(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Subnets, ElasticVitFmnistGoldenSubnet,
                         ::testing::Values("s", "m", "l", "random0", "random1"));

TEST_F(ElasticVitFmnistGolden, RecalibratedBatchNormStatistics) {
  golden().check_bn_statistics("m");
}

// s on the first 500 test images (all 10,000, and l, through `hwnas eval --predictions`: longer
// than a unit test should run). 500 images leave no disagreement room under 99.9 %.
TEST_F(ElasticVitFmnistGolden, TestSetPredictionsAgree) {
  golden().check_test_predictions("s", 500);
}

}  // namespace
}  // namespace hwnas
