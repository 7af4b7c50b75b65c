// ScreenedAccuracy: an expensive accuracy source behind an online surrogate that decides which
// candidates are worth evaluating.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "predictors/accuracy_predictor.h"
#include "spaces/search_space.h"

namespace hwnas {

struct ScreeningOptions {
  int warmup = 24;  ///< real evaluations before the surrogate screens anything
  double keep_fraction =
      0.5;  ///< share of each asked batch evaluated for real (the best by the surrogate)
  double ridge_lambda = 1.0;  ///< the surrogate's L2 penalty (SurrogateAccuracy)
};

struct ScreeningStats {
  int asked = 0;      ///< archs scored
  int evaluated = 0;  ///< archs sent to the expensive source
  int screened = 0;   ///< archs given the surrogate's estimate instead (evaluations saved)
  /// Kendall tau-b between the surrogate's predictions and the real accuracies of archs it had
  /// not been fitted on (each predicted before its evaluation); NaN before any such pair.
  double heldout_kendall_tau = 0;
  int heldout_pairs = 0;
};

/// Surrogate-assisted evaluation (as in NSGANetV2 / BANANAS-style pre-screening): after `warmup`
/// real evaluations, a ridge surrogate on one-hot genes (SurrogateAccuracy) is refitted on all
/// real evaluations before each batch; only the `keep_fraction` of the batch it ranks highest
/// (at least one) is evaluated by `inner`, the rest receive the surrogate's estimate. Those
/// estimates are of candidates predicted to be worse than their batch-mates, so they rarely
/// reach the Pareto front; the stats say how many evaluations were saved and how well the
/// surrogate ranked archs it had not seen. An arch asked again after it received an estimate is
/// always evaluated for real (SearchRunner's front confirmation relies on it). Calls are
/// serialised. Throws what `inner` throws and hwnas::Error for keep_fraction outside (0, 1].
class ScreenedAccuracy final : public AccuracyPredictor {
 public:
  ScreenedAccuracy(const SearchSpace& space, std::shared_ptr<AccuracyPredictor> inner,
                   ScreeningOptions options = {});

  std::vector<double> predict(const std::vector<Arch>& archs) override;
  std::string source() const override;
  std::string unit() const override { return inner_->unit(); }
  /// false: screening needs the whole batch in one call.
  bool thread_safe() const override { return false; }
  /// 0 for an arch holding the surrogate's estimate, else what `inner` says.
  std::size_t samples(const Arch& arch) override;

  ScreeningStats stats() const;
  /// True if `arch` was given the surrogate's estimate and never evaluated for real.
  bool estimated(const Arch& arch) const;

 private:
  const SearchSpace& space_;
  std::shared_ptr<AccuracyPredictor> inner_;
  ScreeningOptions options_;
  mutable std::mutex mutex_;
  std::vector<Arch> seen_archs_;
  std::vector<double> seen_accuracy_;
  std::vector<double> heldout_pred_, heldout_true_;
  std::set<std::string> estimated_;  // arch JSON of the archs holding an estimate
  ScreeningStats stats_;
};

}  // namespace hwnas
