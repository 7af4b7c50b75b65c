// Small search spaces and predictors for the search tests: discrete ZDT problems, a synthetic
// EfficientFormer-like space small enough to enumerate, a hand-made latency table.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "predictors/accuracy_predictor.h"
#include "predictors/latency_predictor.h"
#include "search/objective.h"
#include "spaces/search_space.h"

namespace hwnas::test {

/// A space defined by its dims, a repair rule and a decoder (all given as functions).
class ToySpace final : public SearchSpace {
 public:
  using RepairFn = std::function<void(Arch&)>;
  using DecodeFn = std::function<Network(const Arch&)>;
  ToySpace(std::string name, std::vector<Dim> dims, RepairFn repair, DecodeFn decode);

  const std::string& name() const override { return name_; }
  const std::string& summary() const override { return name_; }
  const std::vector<Dim>& dims() const override { return dims_; }
  Arch sample(Rng& rng) const override;
  void repair(Arch& arch) const override;
  Network decode(const Arch& arch) const override;
  void validate(const Arch& arch) const override;
  std::vector<BlockSpec> enumerate_blocks(int) const override { return {}; }
  const std::vector<std::pair<std::string, Arch>>& named() const override { return named_; }
  Arch largest() const override;
  Arch smallest() const override;
  nlohmann::json to_json(const Arch& arch) const override;
  Arch from_json(const nlohmann::json& j) const override;

  /// Every valid arch (cartesian product of the options, keeping those repair leaves alone).
  std::vector<Arch> enumerate() const;

 private:
  std::string name_;
  std::vector<Dim> dims_;
  RepairFn repair_;
  DecodeFn decode_;
  std::vector<std::pair<std::string, Arch>> named_;
};

/// Discrete ZDT (Zitzler, Deb & Thiele 2000): `vars` genes with levels 0..levels-1, x =
/// g/(levels-1).
std::unique_ptr<ToySpace> make_zdt_space(int vars, int levels);
/// ZDT objective f1 (= x1) or f2 (ZDT1: g (1 - sqrt(f1/g)); ZDT2: g (1 - (f1/g)^2)), minimised.
class ZdtObjective final : public Objective {
 public:
  ZdtObjective(int problem, int which, int levels)
      : problem_(problem), which_(which), levels_(levels) {}
  std::string name() const override { return "f" + std::to_string(which_); }
  std::string unit() const override { return "1"; }
  Sense sense() const override { return Sense::minimize; }
  std::vector<double> evaluate(const std::vector<Arch>& archs) override;
  static double value(int problem, int which, int levels, const std::vector<int>& genes);

 private:
  int problem_, which_, levels_;
};

/// Synthetic EfficientFormer-like space: width0 {16,32,48,64}, width1 {32..128 step 16},
/// width2 {64..176 step 16}, depth0 1-4, depth1 1-4, depth2 1-6, num_vit 0..depth2 (repair
/// lowers num_vit). Decodes to real BlockSpecs (stem, meta4d, downsample, flatten, meta3d, head).
std::unique_ptr<ToySpace> make_synthetic_space();
/// Slimming space: width0 {16,32}, width1 {32,48,64}, depth0 {1,2}, depth1 {1,2,3}, num_vit {0,1};
/// decodes to depth0 x meta4d(width0, 8x8), (depth1 - num_vit) x meta4d(width1, 4x4),
/// num_vit x meta3d(width1, 4x4) (no stem/head, so the hand computation stays short).
std::unique_ptr<ToySpace> make_slim_space();

/// A hand-made latency table: a map from BlockSpec to ms; the prediction is the sum over blocks.
class MapLatencyPredictor final : public LatencyPredictor {
 public:
  std::unordered_map<BlockSpec, double, BlockSpecHash> table;
  double predict_ms(const Network& net) const override;
  std::string source() const override { return "hand-made table"; }
};

/// The synthetic space's table: ms(block) = 0.02 + macs * 1e-7 (+0.3 per meta3d, an
/// attention overhead that MACs do not show), filled for every block of every valid arch.
std::shared_ptr<MapLatencyPredictor> make_synthetic_table(const ToySpace& space);

/// Accuracy from a function of the genes (thread-safe).
class FunctionAccuracy final : public AccuracyPredictor {
 public:
  explicit FunctionAccuracy(std::function<double(const Arch&)> fn) : fn_(std::move(fn)) {}
  std::vector<double> predict(const std::vector<Arch>& archs) override;
  std::string source() const override { return "known function"; }
  bool thread_safe() const override { return true; }

 private:
  std::function<double(const Arch&)> fn_;
};

/// synthetic_accuracy as a screening surrogate may serve it: the first answer for every third
/// arch (gene sum divisible by 3) is an over-optimistic estimate (+0.2) and the arch is
/// `estimated()` until it is asked again, which returns the true value.
class OptimisticFirstLook final : public AccuracyPredictor {
 public:
  std::vector<double> predict(const std::vector<Arch>& archs) override;
  bool estimated(const Arch& arch) const;
  std::string source() const override { return "optimistic first look"; }

 private:
  mutable std::mutex mutex_;
  std::set<std::vector<int>> asked_, estimated_;
};

/// The synthetic space's known accuracy: diminishing returns in widths and depths, a bonus
/// for MB3D blocks that saturates.
double synthetic_accuracy(const Arch& arch);

}  // namespace hwnas::test
