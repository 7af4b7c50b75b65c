#include "tests/evaluators/supernet_golden.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>

#include "evaluators/accuracy/accuracy.h"
#include "evaluators/accuracy/bn_recalibration.h"
#include "evaluators/datasets/fashion_mnist.h"
#include "evaluators/engine/model.h"
#include "evaluators/io/npy.h"
#include "evaluators/io/npz.h"
#include "evaluators/runtime/thread_scope.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "spaces/registry.h"
#include "tests/support/golden_tolerances.h"
#include "tests/support/test_support.h"

namespace hwnas::test {

namespace fs = std::filesystem;

namespace {

// Per-folder data read once per test binary (the checkpoint, the 70,000 images).
struct Cache {
  nlohmann::json info;
  std::unique_ptr<WeightStore> supernet;
  std::unique_ptr<EvalData> test_data;
  std::map<std::string, WeightStore> recalibrated;  // arch JSON -> BN statistics
};

Cache& cache(const std::string& dir) {
  static std::mutex mutex;
  static std::map<std::string, Cache> all;
  std::lock_guard lock(mutex);
  return all[dir];
}

double max_rel_logit_diff(const Tensor& logits, const NpyArray& want) {
  double scale = 0, diff = 0;
  for (std::size_t i = 0; i < want.data.size(); ++i) {
    scale = std::max(scale, std::abs(static_cast<double>(want.data[i])));
    diff = std::max(diff, std::abs(static_cast<double>(logits.data()[i]) - want.data[i]));
  }
  return diff / std::max(1.0, scale);
}

}  // namespace

SupernetGolden::SupernetGolden(std::string space, std::string env_dir)
    : space_(std::move(space)), env_dir_(std::move(env_dir)) {}

std::string SupernetGolden::path(const std::string& file) const {
  const char* env = std::getenv(env_dir_.c_str());
  const std::string dir = env && *env ? env : test_data_dir() + "/" + space_;
  return file.empty() ? dir : dir + "/" + file;
}

bool SupernetGolden::present() const { return fs::exists(path("subnets.json")); }

const nlohmann::json& SupernetGolden::info() const {
  Cache& c = cache(path());
  if (c.info.is_null()) {
    std::ifstream in(path("subnets.json"));
    c.info = nlohmann::json::parse(in);
  }
  return c.info;
}

const SearchSpace& SupernetGolden::space() const { return get_space(space_); }

int SupernetGolden::resolution() const { return space().decode(arch("s")).input.h; }

const WeightStore& SupernetGolden::supernet() const {
  Cache& c = cache(path());
  if (!c.supernet)
    c.supernet = std::make_unique<WeightStore>(load_safetensors(
        (fs::path(test_data_dir()) / ".." / ".." / info()["checkpoint"].get<std::string>())
            .string()));
  return *c.supernet;
}

Arch SupernetGolden::arch(const std::string& name) const {
  return space().from_json(info()["subnets"][name]["arch"]);
}

Tensor SupernetGolden::input() const {
  const NpyArray a = read_npy(path("input.npy"));  // (N, 1, r, r): NCHW with C = 1 is NHWC
  Tensor x(static_cast<int>(a.shape[0]), static_cast<int>(a.shape[2]), static_cast<int>(a.shape[3]),
           1);
  std::copy(a.data.begin(), a.data.end(), x.data());
  return x;
}

const EvalData& SupernetGolden::test_data() const {
  Cache& c = cache(path());
  if (!c.test_data)
    c.test_data = std::make_unique<EvalData>(open_eval_data(
        "fashion-mnist", "test", info()["split_seed"].get<std::uint64_t>(), resolution()));
  return *c.test_data;
}

WeightStore SupernetGolden::recalibrated(const Arch& arch, const WeightStore& sub) const {
  // Memoised per arch: the logits, statistics and prediction checks of one subnet share it.
  auto& memo = cache(path()).recalibrated;
  const std::string key = space().to_json(arch).dump();
  if (auto it = memo.find(key); it != memo.end()) return it->second;
  const EvalData& data = test_data();
  ThreadScope threads(2);
  WeightStore st = recalibrate_batchnorm(space().decode(arch), sub, 8, [&](std::size_t b) {
    return load_batch(*data.recal_set, data.recal, b * 64, b * 64 + 64);
  });
  return memo.emplace(key, std::move(st)).first->second;
}

void SupernetGolden::check_preprocessing() const {
  const NpyArray raw = read_npy(path("raw_input.npy"));  // (16, 28, 28) uint8
  const NpyArray want = read_npy(path("input.npy"));
  const int r = resolution(), f = fashion_mnist_upsample(r);
  std::vector<std::uint8_t> bytes(raw.data.begin(), raw.data.end());
  std::vector<float> got(static_cast<std::size_t>(r) * r);
  const std::size_t n = raw.shape[0];
  double diff = 0;
  for (std::size_t i = 0; i < n; ++i) {
    preprocess_fashion_mnist(bytes.data() + i * 28 * 28, got.data(), f);
    for (std::size_t p = 0; p < got.size(); ++p)
      diff = std::max(diff, std::abs(double(got[p]) - want.data[i * got.size() + p]));
  }
  EXPECT_LE(diff, 1e-6);
  // The raw images are the first test images of the Debian package.
  const FashionMnist test(locate_fashion_mnist(), false);
  for (std::size_t i = 0; i < n * 28 * 28; ++i) ASSERT_EQ(test.raw(0)[i], bytes[i]) << i;
}

void SupernetGolden::check_sliced(const std::string& name) const {
  const WeightStore want =
      load_safetensors(path(info()["subnets"][name]["sliced"].get<std::string>()));
  const WeightStore got = slice_supernet(space(), arch(name), supernet());
  std::size_t compared = 0;
  for (const auto& [tensor, t] : want.tensors) {
    if (tensor.find("num_batches_tracked") != std::string::npos ||
        tensor.find("attention_bias_idxs") != std::string::npos)
      continue;
    ASSERT_TRUE(got.contains(tensor)) << tensor;
    EXPECT_EQ(got.at(tensor).shape, t.shape) << tensor;
    EXPECT_EQ(got.at(tensor).data, t.data) << tensor;  // slicing copies: exact
    ++compared;
  }
  EXPECT_EQ(compared, got.tensors.size());
}

void SupernetGolden::check_logits(const std::string& name) const {
  ThreadScope threads(2);
  ASSERT_TRUE(info()["subnets"].contains(name)) << name << " not in subnets.json";
  const auto& entry = info()["subnets"][name];
  const Tensor x = input();
  const Arch a = arch(name);
  const Network net = space().decode(a);
  const WeightStore sub = slice_supernet(space(), a, supernet());
  Model plain = Model::from_weights(net, sub);
  const double d0 = max_rel_logit_diff(plain.forward(x), read_npy(path(entry["logits"])));
  EXPECT_LE(d0, kSupernetLogitRelTol) << name << " without recalibration";
  if (!entry.contains("recal_logits")) {  // a space without BatchNorm (Hiera)
    std::cout << "[ golden   ] " << space_ << " " << name
              << ": max |logit diff| / max(1, max |logit|) " << d0 << " (no BatchNorm)\n";
    return;
  }
  Model recal = Model::from_weights(net, with_bn_stats(sub, recalibrated(a, sub)));
  const double d1 = max_rel_logit_diff(recal.forward(x), read_npy(path(entry["recal_logits"])));
  EXPECT_LE(d1, kSupernetLogitRelTol) << name << " after recalibration";
  std::cout << "[ golden   ] " << space_ << " " << name
            << ": max |logit diff| / max(1, max |logit|) " << d0 << " plain, " << d1
            << " recalibrated\n";
}

void SupernetGolden::check_bn_statistics(const std::string& name) const {
  ThreadScope threads(2);
  const Arch a = arch(name);
  const WeightStore st = recalibrated(a, slice_supernet(space(), a, supernet()));
  const auto want = read_npz(path(info()["subnets"][name]["recal_bn"]));
  ASSERT_EQ(want.size(), st.tensors.size());
  double worst = 0;
  for (const auto& [tensor, w] : want) {
    ASSERT_TRUE(st.contains(tensor)) << tensor;
    const auto& got = st.at(tensor).data;
    ASSERT_EQ(got.size(), w.data.size()) << tensor;
    // Relative to the value, floored at 1 % of the tensor's largest magnitude: a running mean of a
    // channel that is nearly zero-centred carries no relative precision of its own.
    double largest = 1e-12;
    for (float v : w.data) largest = std::max(largest, std::abs(double(v)));
    for (std::size_t i = 0; i < got.size(); ++i) {
      const double rel = std::abs(double(got[i]) - w.data[i]) /
                         std::max(0.01 * largest, std::abs(double(w.data[i])));
      worst = std::max(worst, rel);
      EXPECT_LE(rel, kBnStatisticRelTol)
          << tensor << "[" << i << "] " << got[i] << " vs " << w.data[i];
    }
  }
  std::cout << "[ golden   ] " << space_ << " " << name << ": max relative BN statistic difference "
            << worst << "\n";
}

void SupernetGolden::check_test_predictions(const std::string& name, std::size_t images) const {
  const Arch a = arch(name);
  const WeightStore sub = slice_supernet(space(), a, supernet());
  const NpyArray want = read_npy(path(info()["subnets"][name]["test_pred"]));
  const EvalData& data = test_data();
  const std::size_t n = std::min(want.data.size(), images);
  const std::vector<std::size_t> first(data.eval.begin(),
                                       data.eval.begin() + static_cast<std::ptrdiff_t>(n));
  const AccuracyResult r = evaluate_accuracy(
      space().decode(a), with_bn_stats(sub, recalibrated(a, sub)), *data.eval_set, first, 250, 2);
  std::size_t same = 0;
  for (std::size_t i = 0; i < n; ++i) same += r.predictions[i] == static_cast<int>(want.data[i]);
  const double agree = static_cast<double>(same) / n;
  EXPECT_GE(agree, 0.999);
  const auto& m = info()["subnets"][name]["metrics"]["recal"]["test"];
  std::cout << "[ golden   ] " << space_ << " " << name << " on " << n << " test images: agreement "
            << agree << ", top-1 engine " << r.top1 << " (PyTorch on all " << want.data.size()
            << ": " << m["top1"] << ")\n";
}

}  // namespace hwnas::test
