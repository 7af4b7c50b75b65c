// LatencyCorrection: a learned correction of the plain LUT sum, fitted on end-to-end
// measurements of sampled subnets (nn-Meter and HELP note that kernel sums drift from whole-model
// time; here a ridge regression on per-block-kind sums absorbs the drift).
#pragma once

#include <array>
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "spaces/block_spec.h"

namespace hwnas {

/// What the correction sees of one network: per block kind, the sum of the table medians (ms)
/// and the number of blocks, plus the plain prediction (sum + overhead, ms).
struct LatencyFeatures {
  std::array<double, kBlockKindCount> kind_ms{};
  std::array<double, kBlockKindCount> kind_count{};
  double plain_ms = 0;
};

/// The ridge penalties fit_cross_validated chooses from, on standardised features per sample.
/// 1e-2 was the fixed penalty before; 100 leaves little more than the intercept.
inline constexpr std::array<double, 6> kCorrectionLambdas{1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0};

/// corrected = plain + intercept + sum_k a_k * kind_ms[k] + sum_k b_k * kind_count[k]:
/// a_k scales a kind's isolated time to its in-network time, b_k is a per-block boundary cost.
/// Fitted by ridge regression (Eigen) on standardised features of the residual
/// (measured - plain); features that do not vary over the sample get weight 0.
class LatencyCorrection {
 public:
  /// Fits on `features[i]` with end-to-end medians `measured_ms[i]` (same length, >= 3).
  /// `lambda` is the ridge penalty on standardised features (per sample). Throws hwnas::Error
  /// on mismatched or too few samples.
  static LatencyCorrection fit(const std::vector<LatencyFeatures>& features,
                               const std::vector<double>& measured_ms, double lambda = 1e-2);
  /// fit() at the ridge penalty of kCorrectionLambdas whose `folds`-fold cross-validation on
  /// these samples gives the smallest RMS relative error (sample i in fold i % folds; ties go to
  /// the larger penalty). A fixed small penalty lets the per-kind terms fit the noise of the
  /// measurements when they are timed on a noisy host, which then moves held-out predictions
  /// more than it corrects them (turbovit, issue 15: held-out RMSPE 2.35 % at 1e-2, 1.83 % at
  /// the penalty chosen so). Needs at least `folds` samples and at least 3 per training fold,
  /// else it fits at the default penalty; throws as fit().
  static LatencyCorrection fit_cross_validated(const std::vector<LatencyFeatures>& features,
                                               const std::vector<double>& measured_ms,
                                               int folds = 5);
  /// The corrected latency in ms. Allocation-free.
  double apply(const LatencyFeatures& f) const {
    double r = f.plain_ms + intercept_;
    for (std::size_t k = 0; k < kBlockKindCount; ++k)
      r += scale_[k] * f.kind_ms[k] + per_block_[k] * f.kind_count[k];
    return r;
  }
  /// {"model":"ridge-per-kind-v1","intercept_ms":..,"scale":{kind:..},"per_block_ms":{kind:..},
  ///  "lambda":..,"samples":..}; from_json throws hwnas::Error on another model or bad fields.
  nlohmann::json to_json() const;
  static LatencyCorrection from_json(const nlohmann::json& j);

  int samples() const { return samples_; }
  double lambda() const { return lambda_; }

 private:
  double intercept_ = 0;
  std::array<double, kBlockKindCount> scale_{};
  std::array<double, kBlockKindCount> per_block_{};
  double lambda_ = 0;
  int samples_ = 0;
};

/// Fits a correction on (features, measured ms); LatencyCorrection::fit at a penalty, or
/// fit_cross_validated.
using CorrectionFitter = std::function<LatencyCorrection(const std::vector<LatencyFeatures>&,
                                                         const std::vector<double>&)>;

/// K-fold cross-validated predictions (ms): sample i falls in fold i % folds and is predicted by
/// `fit` on the samples of the other folds, so that no prediction has seen its own measurement.
/// Throws hwnas::Error for folds < 2 or mismatched lengths, and whatever `fit` throws (too few
/// samples per training fold).
std::vector<double> cross_validated_predictions(const std::vector<LatencyFeatures>& features,
                                                const std::vector<double>& measured_ms, int folds,
                                                const CorrectionFitter& fit);

}  // namespace hwnas
