// LatencyCorrection: a learned correction of the plain LUT sum, fitted on end-to-end
// measurements of sampled subnets (nn-Meter and HELP note that kernel sums drift from whole-model
// time; here a ridge regression on per-block-kind sums absorbs the drift).
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spaces/block_spec.h"

namespace hwnas {

/// The kind slots of the features: one per kind of block_kind.def, and one that the kinds
/// registered at run time (spaces/block_kind_registry.h) share.
inline constexpr std::size_t kCorrectionKindSlots = kBlockKindCount + 1;
/// A kind's slot: its own value below kBlockKindCount, else the shared last slot.
std::size_t correction_kind_slot(BlockKind kind);
/// A slot's name: the kind's (block_kind_name), or "registered" for the shared slot.
std::string correction_slot_name(std::size_t slot);

/// How many stage levels the features tell apart.
inline constexpr std::size_t kStageLevels = 10;
/// A block's stage level: round(log2(h)) of its grid (its attribute h: the input's height for
/// the convolutions, the token grid's for attention), clamped to [0, kStageLevels - 1]; 0 for a
/// kind without h (EfficientFormer's head). The stages of the built-in spaces each get their own
/// level at their default resolutions (64 x 64 input: stem 6, then 4, 3, 2, 1; 224: stem 8, then
/// 6, 5, 4, 3).
std::size_t block_stage_level(const BlockSpec& block);

/// What the correction sees of one network: per kind slot, the sum of the table medians (ms)
/// and the number of blocks, the same sums split by stage level, plus the plain prediction
/// (sum + overhead, ms). kind_ms[k] is the sum of stage_ms[k] over the levels.
struct LatencyFeatures {
  std::array<double, kCorrectionKindSlots> kind_ms{};
  std::array<double, kCorrectionKindSlots> kind_count{};
  std::array<std::array<double, kStageLevels>, kCorrectionKindSlots> stage_ms{};
  double plain_ms = 0;

  /// Adds one block whose table median is `ms` to its kind's and its stage's sums (plain_ms is
  /// the caller's: it also holds the overhead). Throws what block_stage_level throws.
  void add_block(const BlockSpec& block, double ms);
  /// Adds `other`'s per-kind and per-stage sums (not its plain_ms).
  void add_blocks_of(const LatencyFeatures& other);
};

/// The ridge penalties fit_cross_validated chooses from, on standardised features per sample.
/// 1e-2 was the fixed penalty before; 100 leaves little more than the intercept.
inline constexpr std::array<double, 6> kCorrectionLambdas{1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0};

/// corrected = plain + intercept + sum_k a_k * kind_ms[k] + sum_k b_k * kind_count[k]
///             + sum_k,l s_kl * stage_ms[k][l]:
/// a_k scales a kind's isolated time to its in-network time, b_k is a per-block boundary cost,
/// s_kl lets the scale differ from stage to stage (model ridge-per-kind-stage-v2; v1, stored
/// before 2026-12-07, had no s_kl and still loads). The rows of one kind are off by different
/// amounts at different resolutions: on int8 efficientformer-fmnist the meta4d rows at 16 x 16
/// were 6 % high and those at 8 x 8 right, which a per-kind scale could only average; over
/// three quiet validations Kendall's tau rose from 0.968-0.969 with v1 to 0.971-0.979
/// (bench/README.md, "A correction by kind and stage"). Fitted by ridge regression (Eigen) on
/// standardised features of the residual (measured - plain); features that do not vary over
/// the sample get weight 0.
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
    for (std::size_t k = 0; k < kCorrectionKindSlots; ++k) {
      r += scale_[k] * f.kind_ms[k] + per_block_[k] * f.kind_count[k];
      for (std::size_t l = 0; l < kStageLevels; ++l) r += stage_scale_[k][l] * f.stage_ms[k][l];
    }
    return r;
  }
  /// What a block of kind slot `slot` at stage level `level` whose table median is `ms` adds to
  /// apply()'s result beyond `ms` itself (ms). The model is linear in the per-block features, so
  /// apply(f) = f.plain_ms + intercept_ms() + the sum of block_term over f's blocks: a LUT
  /// predictor folds it into each row once and then predicts at the cost of the plain sum.
  /// Requires slot < kCorrectionKindSlots and level < kStageLevels (unchecked: it runs once per
  /// row at load, with indices from correction_slot and the row's stage level).
  double block_term(std::size_t slot, std::size_t level, double ms) const {
    return (scale_[slot] + stage_scale_[slot][level]) * ms + per_block_[slot];
  }
  /// The fitted intercept (ms).
  double intercept_ms() const { return intercept_; }
  /// {"model":"ridge-per-kind-stage-v2","intercept_ms":..,"scale":{kind:..},
  ///  "per_block_ms":{kind:..},"stage_scale":{kind:[one per level]},"lambda":..,"samples":..,
  ///  "space_speed":..} (kinds by correction_slot_name; stage_scale lists only the kinds with a
  /// non-zero level; space_speed is speed()). from_json also reads "ridge-per-kind-v1" (no
  /// stage_scale) and a model without space_speed (speed 1), and throws hwnas::Error on another
  /// model or bad fields.
  nlohmann::json to_json() const;
  static LatencyCorrection from_json(const nlohmann::json& j);

  int samples() const { return samples_; }
  double lambda() const { return lambda_; }

  /// The fitting run's median space-reference factor (ValidationReport::fit_speed: the space's
  /// reference timed in that run over its time stored with the rows), 1 when unknown (fit()
  /// leaves it 1). apply() predicts at the fitting run's speed; validation divides this factor
  /// out when it scales a stored correction to another run. Predictions do not: the factor is
  /// only as good as the reference's build time, and a reference timed in a slow stretch of the
  /// build (factor 0.63, rows unaffected) made every divided prediction 1.59 times too slow,
  /// where dividing helped by 1.7 points of RMSPE when the build was right (bench/README.md,
  /// "Dividing the fitting run's speed out of a stored correction: tried, not kept").
  double speed() const { return speed_; }
  /// Sets speed(). Throws hwnas::Error unless `speed` is finite and > 0.
  void set_speed(double speed);

 private:
  double intercept_ = 0;
  std::array<double, kCorrectionKindSlots> scale_{};
  std::array<double, kCorrectionKindSlots> per_block_{};
  std::array<std::array<double, kStageLevels>, kCorrectionKindSlots> stage_scale_{};
  double lambda_ = 0;
  int samples_ = 0;
  double speed_ = 1.0;
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
