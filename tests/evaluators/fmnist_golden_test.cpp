// Golden parity with the PyTorch efficientformer-fmnist supernet (tools/supernet/make_goldens.py,
// files in tests/data/efficientformer-fmnist/): Fashion-MNIST preprocessing, subnet slicing,
// logits with and without BN recalibration, recalibrated BN statistics, test-set predictions.
#include <gtest/gtest.h>

#include <cmath>

#include "evaluators/accuracy.h"
#include "evaluators/bn_recalibration.h"
#include "evaluators/datasets/eval_data.h"
#include "evaluators/datasets/fashion_mnist.h"
#include "evaluators/model.h"
#include "evaluators/npy.h"
#include "evaluators/npz.h"
#include "evaluators/supernet_slicing.h"
#include "evaluators/thread_scope.h"
#include "tests/evaluators/fmnist_golden_files.h"

namespace hwnas {
namespace {

using test::max_rel_logit_diff;

// HWNAS_FMNIST_GOLDEN_DIR overrides the folder (goldens of another checkpoint while developing).
const test::FmnistGoldenFiles& files() {
  static const test::FmnistGoldenFiles f("efficientformer-fmnist", "HWNAS_FMNIST_GOLDEN_DIR");
  return f;
}
std::string golden(const std::string& file = "") { return files().path(file); }
const nlohmann::json& info() { return files().info(); }
const SearchSpace& space() { return files().space(); }
const WeightStore& supernet() { return files().supernet(); }
Arch arch_of(const std::string& name) { return files().arch_of(name); }
Tensor golden_input() { return files().input(); }
const EvalData& test_data() { return files().test_data(); }

WeightStore recalibrated(const Arch& arch, const WeightStore& sub) {
  const EvalData& data = test_data();
  return recalibrate_batchnorm(space().decode(arch), sub, 8, [&](std::size_t b) {
    return load_batch(*data.recal_set, data.recal, b * 64, b * 64 + 64);
  });
}

class FmnistGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!files().present())
      GTEST_FAIL() << "missing " << golden("subnets.json") << " (tools/supernet/make_goldens.py)";
  }
};

TEST_F(FmnistGolden, PreprocessingMatchesPyTorch) {
  const NpyArray raw = read_npy(golden("raw_input.npy"));  // (16, 28, 28) uint8
  const NpyArray want = read_npy(golden("input.npy"));
  std::vector<std::uint8_t> bytes(raw.data.begin(), raw.data.end());
  std::vector<float> got(64 * 64);
  double diff = 0;
  for (std::size_t n = 0; n < 16; ++n) {
    preprocess_fashion_mnist(bytes.data() + n * 28 * 28, got.data());
    for (int i = 0; i < 64 * 64; ++i) diff = std::max(diff, std::abs(double(got[i]) - want.data[n * 4096 + i]));
  }
  EXPECT_LE(diff, 1e-6);
  // The raw images are the first 16 t10k images of the Debian package.
  const FashionMnist test(locate_fashion_mnist(), false);
  for (std::size_t i = 0; i < 16 * 28 * 28; ++i) ASSERT_EQ(test.raw(0)[i], bytes[i]) << i;
}

TEST_F(FmnistGolden, SlicedSubnetEqualsPyTorchSlice) {
  const WeightStore want = load_safetensors(golden(info()["subnets"]["s"]["sliced"].get<std::string>()));
  const WeightStore got = slice_supernet(space(), arch_of("s"), supernet());
  std::size_t compared = 0;
  for (const auto& [name, t] : want.tensors) {
    if (name.find("num_batches_tracked") != std::string::npos ||
        name.find("attention_bias_idxs") != std::string::npos)
      continue;
    ASSERT_TRUE(got.contains(name)) << name;
    EXPECT_EQ(got.at(name).shape, t.shape) << name;
    EXPECT_EQ(got.at(name).data, t.data) << name;  // slicing copies: exact
    ++compared;
  }
  EXPECT_EQ(compared, got.tensors.size());
}

// One subnet per test (each recalibrates on 512 images): the contract's s, m, l and two seeded
// random archs, as subnets.json lists them.
class FmnistGoldenSubnet : public FmnistGolden, public ::testing::WithParamInterface<const char*> {};

TEST_P(FmnistGoldenSubnet, LogitsWithAndWithoutRecalibration) {
  ThreadScope threads(2);
  const std::string name = GetParam();
  ASSERT_TRUE(info()["subnets"].contains(name)) << name << " not in subnets.json";
  const auto& entry = info()["subnets"][name];
  const Tensor x = golden_input();
  const Arch arch = arch_of(name);
  const Network net = space().decode(arch);
  const WeightStore sub = slice_supernet(space(), arch, supernet());
  Model plain = Model::from_weights(net, sub);
  const double d0 = max_rel_logit_diff(plain.forward(x), read_npy(golden(entry["logits"])));
  EXPECT_LE(d0, 1e-4) << name << " without recalibration";
  Model recal = Model::from_weights(net, with_bn_stats(sub, recalibrated(arch, sub)));
  const double d1 = max_rel_logit_diff(recal.forward(x), read_npy(golden(entry["recal_logits"])));
  EXPECT_LE(d1, 1e-4) << name << " after recalibration";
  std::cout << "[ golden   ] " << name << ": max |logit diff| / max(1, max |logit|) " << d0
            << " plain, " << d1 << " recalibrated\n";
}

INSTANTIATE_TEST_SUITE_P(Subnets, FmnistGoldenSubnet,
                         ::testing::Values("s", "m", "l", "random0", "random1"));

TEST_F(FmnistGolden, RecalibratedBatchNormStatistics) {
  const Arch m = arch_of("m");
  const WeightStore st = recalibrated(m, slice_supernet(space(), m, supernet()));
  const auto want = read_npz(golden(info()["subnets"]["m"]["recal_bn"]));
  ASSERT_EQ(want.size(), st.tensors.size());
  double worst = 0;
  for (const auto& [name, a] : want) {
    ASSERT_TRUE(st.contains(name)) << name;
    const auto& got = st.at(name).data;
    ASSERT_EQ(got.size(), a.data.size()) << name;
    // Relative to the value, floored at 1 % of the tensor's largest magnitude: a running mean of a
    // channel that is nearly zero-centred carries no relative precision of its own.
    double largest = 1e-12;
    for (float v : a.data) largest = std::max(largest, std::abs(double(v)));
    for (std::size_t i = 0; i < got.size(); ++i) {
      const double rel = std::abs(double(got[i]) - a.data[i]) /
                         std::max(0.01 * largest, std::abs(double(a.data[i])));
      worst = std::max(worst, rel);
      EXPECT_LE(rel, 1e-4) << name << "[" << i << "] " << got[i] << " vs " << a.data[i];
    }
  }
  std::cout << "[ golden   ] m: max relative BN statistic difference " << worst << "\n";
}

// Test-set agreement with PyTorch's arg-max for the smallest subnet on the first 2,000 test
// images (all 10,000, and subnet l, through `hwnas eval --predictions`: longer than a unit test
// should run).
TEST_F(FmnistGolden, TestSetPredictionsAgree) {
  const Arch s = arch_of("s");
  const WeightStore sub = slice_supernet(space(), s, supernet());
  const std::size_t n = 2000;
  AccuracyResult r;
  const double agree = files().test_agreement("s", with_bn_stats(sub, recalibrated(s, sub)), n, &r);
  EXPECT_GE(agree, 0.999);
  const auto& m = info()["subnets"]["s"]["metrics"]["recal"]["test"];
  std::cout << "[ golden   ] s on " << n << " test images: agreement " << agree << ", top-1 engine "
            << r.top1 << " (PyTorch on all 10,000: " << m["top1"] << ")\n";
}

}  // namespace
}  // namespace hwnas
