#include "tests/evaluators/fmnist_golden_files.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas::test {

namespace fs = std::filesystem;

FmnistGoldenFiles::FmnistGoldenFiles(std::string space, std::string dir_env)
    : space_(std::move(space)) {
  const char* env = std::getenv(dir_env.c_str());
  dir_ = env && *env ? env : test_data_dir() + "/" + space_;
}

std::string FmnistGoldenFiles::path(const std::string& file) const {
  return file.empty() ? dir_ : dir_ + "/" + file;
}

bool FmnistGoldenFiles::present() const { return fs::exists(path("subnets.json")); }

const nlohmann::json& FmnistGoldenFiles::info() const {
  if (!info_) {
    std::ifstream in(path("subnets.json"));
    info_ = std::make_shared<const nlohmann::json>(nlohmann::json::parse(in));
  }
  return *info_;
}

const SearchSpace& FmnistGoldenFiles::space() const { return get_space(space_); }

const WeightStore& FmnistGoldenFiles::supernet() const {
  if (!supernet_)  // subnets.json names the checkpoint relative to the repository root
    supernet_ = std::make_shared<const WeightStore>(load_safetensors(
        (fs::path(test_data_dir()) / ".." / ".." / info()["checkpoint"].get<std::string>())
            .string()));
  return *supernet_;
}

Arch FmnistGoldenFiles::arch_of(const std::string& name) const {
  return space().from_json(info()["subnets"][name]["arch"]);
}

Tensor FmnistGoldenFiles::input() const {
  const NpyArray a = read_npy(path("input.npy"));
  Tensor x(static_cast<int>(a.shape[0]), 64, 64, 1);
  std::copy(a.data.begin(), a.data.end(), x.data());
  return x;
}

const EvalData& FmnistGoldenFiles::test_data() const {
  if (!test_data_)
    test_data_ = std::make_shared<const EvalData>(
        open_eval_data("fashion-mnist", "test", info()["split_seed"].get<std::uint64_t>(), 64));
  return *test_data_;
}

double FmnistGoldenFiles::test_agreement(const std::string& name, const WeightStore& weights,
                                         std::size_t n, AccuracyResult* result) const {
  const NpyArray want = read_npy(path(info()["subnets"][name]["test_pred"].get<std::string>()));
  const EvalData& data = test_data();
  n = std::min(n, want.data.size());
  const std::vector<std::size_t> first(data.eval.begin(),
                                       data.eval.begin() + static_cast<std::ptrdiff_t>(n));
  const AccuracyResult r =
      evaluate_accuracy(space().decode(arch_of(name)), weights, *data.eval_set, first, 250, 2);
  std::size_t same = 0;
  for (std::size_t i = 0; i < n; ++i) same += r.predictions[i] == static_cast<int>(want.data[i]);
  if (result) *result = r;
  return static_cast<double>(same) / static_cast<double>(n);
}

double max_rel_logit_diff(const Tensor& logits, const NpyArray& want) {
  double scale = 0, diff = 0;
  for (std::size_t i = 0; i < want.data.size(); ++i) {
    scale = std::max(scale, std::abs(static_cast<double>(want.data[i])));
    diff = std::max(diff, std::abs(static_cast<double>(logits.data()[i]) - want.data[i]));
  }
  return diff / std::max(1.0, scale);
}

}  // namespace hwnas::test
