// Golden parity with a PyTorch Fashion-MNIST supernet (tools/hwnas_tools/): the checks shared by
// every such space (efficientformer-fmnist, elasticvit-fmnist, turbovit-fmnist), on the files the
// golden scripts write into tests/data/<space>/ (subnets.json, input.npy, raw_input.npy,
// <name>.sliced.safetensors, <name>.logits.npy, <name>.recal_logits.npy, m.recal_bn.npz,
// <name>.test_pred.npy) and the checkpoint subnets.json names.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "evaluators/datasets/eval_data.h"
#include "evaluators/engine/tensor.h"
#include "evaluators/io/safetensors.h"
#include "spaces/search_space.h"

namespace hwnas::test {

class SupernetGolden {
 public:
  /// Files of tests/data/<space>, or of $<env_dir> when set (goldens of another checkpoint
  /// while developing).
  SupernetGolden(std::string space, std::string env_dir);

  /// Path of `file` in the golden folder (the folder itself for "").
  std::string path(const std::string& file = "") const;
  bool present() const;
  const nlohmann::json& info() const;
  const SearchSpace& space() const;
  /// The supernet checkpoint subnets.json names (relative to the repository root); read once.
  const WeightStore& supernet() const;
  Arch arch(const std::string& name) const;
  /// input.npy (N, 1, r, r) as NHWC (N, r, r, 1) (C = 1: the same memory).
  Tensor input() const;
  /// The split seed's test data at the space's resolution; read once.
  const EvalData& test_data() const;
  /// BN statistics of `arch` recalibrated as the contract says (8 batches of 64 train images),
  /// computed once per arch and test binary.
  WeightStore recalibrated(const Arch& arch, const WeightStore& sub) const;
  int resolution() const;

  // The checks (GoogleTest assertions inside; each prints its measured figure).
  /// C++ preprocessing of raw_input.npy equals input.npy (<= 1e-6), and the raw images are
  /// the first test images of the Debian package.
  void check_preprocessing() const;
  /// slice_supernet(s) equals <s>.sliced.safetensors exactly, tensor for tensor.
  void check_sliced(const std::string& name) const;
  /// Engine logits of `name` with and without BN recalibration within kSupernetLogitRelTol of
  /// PyTorch's (relative to max(1, max |logit|)); without only, when subnets.json has no
  /// recal_logits (a space without BatchNorm).
  void check_logits(const std::string& name) const;
  /// m's recalibrated BN statistics within kBnStatisticRelTol relative (floored at 1 % of the
  /// tensor's largest magnitude).
  void check_bn_statistics(const std::string& name) const;
  /// Arg-max agreement >= 99.9 % with <name>.test_pred.npy on the first `images` test images.
  void check_test_predictions(const std::string& name, std::size_t images) const;

 private:
  std::string space_, env_dir_;
};

}  // namespace hwnas::test
