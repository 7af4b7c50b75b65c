// Golden parity with the PyTorch efficientformer-fmnist supernet (tools/supernet/make_goldens.py,
// files in tests/data/efficientformer-fmnist/): Fashion-MNIST preprocessing, subnet slicing,
// logits with and without BN recalibration, recalibrated BN statistics, test-set predictions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "evaluators/accuracy.h"
#include "evaluators/bn_recalibration.h"
#include "evaluators/datasets/eval_data.h"
#include "evaluators/datasets/fashion_mnist.h"
#include "evaluators/model.h"
#include "evaluators/npy.h"
#include "evaluators/npz.h"
#include "evaluators/supernet_slicing.h"
#include "evaluators/thread_scope.h"
#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

namespace fs = std::filesystem;

// HWNAS_FMNIST_GOLDEN_DIR overrides the folder (goldens of another checkpoint while developing).
std::string golden(const std::string& file = "") {
  const char* env = std::getenv("HWNAS_FMNIST_GOLDEN_DIR");
  const std::string dir = env && *env ? env : test::test_data_dir() + "/efficientformer-fmnist";
  return file.empty() ? dir : dir + "/" + file;
}

const nlohmann::json& info() {
  static const nlohmann::json j = [] {
    std::ifstream in(golden("subnets.json"));
    return nlohmann::json::parse(in);
  }();
  return j;
}

const SearchSpace& space() { return get_space("efficientformer-fmnist"); }

const WeightStore& supernet() {
  // subnets.json names the checkpoint relative to the repository root.
  static const WeightStore w = load_safetensors(
      (fs::path(test::test_data_dir()) / ".." / ".." / info()["checkpoint"].get<std::string>()).string());
  return w;
}

Arch arch_of(const std::string& name) { return space().from_json(info()["subnets"][name]["arch"]); }

Tensor golden_input() {
  const NpyArray a = read_npy(golden("input.npy"));  // (16, 1, 64, 64): NCHW with C = 1 is NHWC
  Tensor x(static_cast<int>(a.shape[0]), 64, 64, 1);
  std::copy(a.data.begin(), a.data.end(), x.data());
  return x;
}

double max_rel_logit_diff(const Tensor& logits, const NpyArray& want) {
  double scale = 0, diff = 0;
  for (std::size_t i = 0; i < want.data.size(); ++i) {
    scale = std::max(scale, std::abs(static_cast<double>(want.data[i])));
    diff = std::max(diff, std::abs(static_cast<double>(logits.data()[i]) - want.data[i]));
  }
  return diff / std::max(1.0, scale);
}

// Read once: decompressing the 70,000 images dominates otherwise.
const EvalData& test_data() {
  static const EvalData d =
      open_eval_data("fashion-mnist", "test", info()["split_seed"].get<std::uint64_t>(), 64);
  return d;
}

WeightStore recalibrated(const Arch& arch, const WeightStore& sub) {
  const EvalData& data = test_data();
  return recalibrate_batchnorm(space().decode(arch), sub, 8, [&](std::size_t b) {
    return load_batch(*data.recal_set, data.recal, b * 64, b * 64 + 64);
  });
}

class FmnistGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(golden("subnets.json")))
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
  const NpyArray want = read_npy(golden(info()["subnets"]["s"]["test_pred"]));
  const EvalData& data = test_data();
  const std::size_t n = std::min<std::size_t>(want.data.size(), 2000);
  const std::vector<std::size_t> first(data.eval.begin(), data.eval.begin() + static_cast<std::ptrdiff_t>(n));
  const AccuracyResult r = evaluate_accuracy(space().decode(s), with_bn_stats(sub, recalibrated(s, sub)),
                                             *data.eval_set, first, 250, 2);
  std::size_t same = 0;
  for (std::size_t i = 0; i < n; ++i) same += r.predictions[i] == static_cast<int>(want.data[i]);
  const double agree = static_cast<double>(same) / n;
  EXPECT_GE(agree, 0.999);
  const auto& m = info()["subnets"]["s"]["metrics"]["recal"]["test"];
  std::cout << "[ golden   ] s on " << n << " test images: agreement " << agree << ", top-1 engine "
            << r.top1 << " (PyTorch on all " << want.data.size() << ": " << m["top1"] << ")\n";
}

}  // namespace
}  // namespace hwnas
