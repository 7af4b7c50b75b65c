// The golden files tools/supernet/make_goldens.py writes for a Fashion-MNIST supernet space into
// tests/data/<space>/ (subnets.json, input.npy, <name>.logits.npy, s.sliced.safetensors,
// <name>.test_pred.npy, ...): shared by the golden tests of every such space.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "evaluators/accuracy.h"
#include "evaluators/datasets/eval_data.h"
#include "evaluators/npy.h"
#include "evaluators/safetensors.h"
#include "evaluators/tensor.h"
#include "spaces/search_space.h"

namespace hwnas::test {

class FmnistGoldenFiles {
 public:
  /// Files of `space` in tests/data/<space>/, or in the folder named by the environment
  /// variable `dir_env` when it is set (goldens of another checkpoint while developing).
  FmnistGoldenFiles(std::string space, std::string dir_env);

  /// tests/data/<space>/<file> (the folder itself for "").
  std::string path(const std::string& file = "") const;
  bool present() const;                ///< subnets.json exists
  const nlohmann::json& info() const;  ///< subnets.json, read once
  const SearchSpace& space() const;
  const WeightStore& supernet() const;          ///< the checkpoint subnets.json names, read once
  Arch arch_of(const std::string& name) const;  ///< arch of subnet `name` in subnets.json
  /// input.npy (16, 1, 64, 64) NCHW as an NHWC tensor (C = 1: the same memory order).
  Tensor input() const;
  /// Fashion-MNIST's test split and recalibration images at 64x64 (split seed of subnets.json),
  /// read once: decompressing the 70,000 images dominates otherwise.
  const EvalData& test_data() const;
  /// Engine predictions of subnet `name` with `weights` on the first `n` test images
  /// (<= the golden's 10,000), the fraction equal to <name>.test_pred.npy, and the result.
  double test_agreement(const std::string& name, const WeightStore& weights, std::size_t n,
                        AccuracyResult* result = nullptr) const;

 private:
  std::string space_, dir_;
  mutable std::shared_ptr<const nlohmann::json> info_;
  mutable std::shared_ptr<const WeightStore> supernet_;
  mutable std::shared_ptr<const EvalData> test_data_;
};

/// max |logits - want| / max(1, max |want|) over all entries.
double max_rel_logit_diff(const Tensor& logits, const NpyArray& want);

}  // namespace hwnas::test
