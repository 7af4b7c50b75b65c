// SupernetAccuracy: top-1 of subnets evaluated in the engine with weights inherited from a
// supernet (the "supernet:FILE" accuracy source of `hwnas search`).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "evaluators/accuracy/subnet_evaluation.h"
#include "predictors/accuracy_predictor.h"

namespace hwnas {

/// Each arch is evaluated once (SubnetEvaluator: slice, BN recalibration, top-1 on the held-out
/// split, by default Fashion-MNIST's `val` part) and cached by its arch JSON, so a search that
/// proposes an arch again pays nothing. Values are top-1 fractions. Calls are serialised by a
/// mutex. Throws hwnas::Error as SubnetEvaluator.
class SupernetAccuracy final : public AccuracyPredictor {
 public:
  SupernetAccuracy(const SearchSpace& space, const std::string& weights_path,
                   SubnetEvalOptions options);

  std::vector<double> predict(const std::vector<Arch>& archs) override;
  /// "supernet:FILE (DATASET SPLIT, N images, BN recalibrated on R)"; for a network without
  /// BatchNorm (seen once an evaluation ran) "BN not recalibrated: <reason>" instead.
  std::string source() const override;
  /// false: the search then hands over whole batches from one thread, and each evaluation runs
  /// parallel over images instead (one subnet at a time keeps the cores on one model).
  bool thread_safe() const override { return false; }
  /// The images of the split every subnet is scored on (SubnetEvaluator::scored_images): the
  /// same for every arch of one input resolution.
  std::size_t samples(const Arch& arch) override;

  /// Subnets evaluated in the engine so far (cache misses), and the seconds they took.
  int evaluations() const;
  double seconds() const;

 private:
  const SearchSpace& space_;
  SubnetEvaluator evaluator_;
  mutable std::mutex mutex_;
  std::map<std::string, double> cache_;
  std::string bn_note_;  ///< SubnetEvalResult::bn_note of the evaluations (no BatchNorm)
  int evaluations_ = 0;
  double seconds_ = 0;
};

}  // namespace hwnas
