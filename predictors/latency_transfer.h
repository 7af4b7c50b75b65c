// LatencyTransfer: predicts a block's latency on a target device from its latency on a source
// device and its features, fitted on the few blocks measured on both (few-shot tables, issue 18;
// LitePred (NSDI 2024) adapts a predictor to a new device from few samples the same way, for
// CNN kernels).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "predictors/block_selection.h"

namespace hwnas {

/// One block measured on both devices (ms, > 0), and how much its error counts in the fit
/// (> 0; e.g. its share of networks' latency, usage_weights).
struct TransferSample {
  BlockPoint point;
  double target_ms = 0;
  double weight = 1;
};

/// log(target_ms) = a + b * log(source_ms) + a_k + b_k * (log(source_ms) - mean) + c . x + a_v,
/// with k the block's kind, x the standardised log MACs, log bytes, log input elements and log
/// output positions (BlockPoint) and v its variant (block_variant: Hiera's pooled-query blocks,
/// ElasticViT's MBConv with squeeze-excite), whose op graph sizes alone do not reveal. The offset a
/// is shared by every kind and not penalised. Everything else is ridge-penalised: the shared slope
/// towards b = 1 (proportional scaling between the devices, so 3-4 measured blocks do not fit a
/// slope through their own noise), the per-kind terms a_k, b_k, the size terms c and the variant
/// offsets a_v towards 0. So a kind with one or two measured blocks keeps close to the shared
/// scaling, a kind with none uses it alone, and a variant keeps close to its kind. A variant has
/// an offset only where the samples hold another variant of its kind. The penalty is chosen
/// from a grid by leave-one-out error (closed form: residual / (1 - leverage)), which is also
/// the model's reported cross-validated error.
class LatencyTransfer {
 public:
  /// Fits on `samples` (>= 3), each counting by its weight (scaled to a mean of 1). Throws
  /// hwnas::Error with fewer samples, a non-positive or non-finite latency or weight, or when
  /// every penalty leaves a sample deciding its own fit.
  static LatencyTransfer fit(const std::vector<TransferSample>& samples);

  /// Predicted target latency (ms) of a block with features `p`: the fit's median raised by
  /// exp(log_sigma(kind)^2 / 2), the mean of a log-normal error, so that a network's sum of
  /// predicted rows is unbiased rather than low (Duan's retransformation, 1983). The ratio
  /// target / source is kept within the range the samples of the block's kind show (of all
  /// samples for a kind with fewer than 2): the size terms, fitted mostly on the blocks
  /// networks use, must not extrapolate to a ratio no measured block has.
  double predict_ms(const BlockPoint& p) const;

  /// Leave-one-out relative error, root mean square over the samples (0.05 = 5 %).
  double cv_error() const { return cv_error_; }
  /// The same over the samples of `kind` when it has at least 2, else cv_error().
  double cv_error(BlockKind kind) const;
  /// Root mean square of the leave-one-out residuals of log latency over the samples of `kind`
  /// (at least 2), else over all: the spread of a predicted row's error, for expected errors.
  double log_sigma(BlockKind kind) const;
  /// Samples of `kind` the model was fitted on.
  int samples(BlockKind kind) const;
  int samples() const { return samples_; }
  double lambda() const { return lambda_; }

  /// {"model":"ridge-log-transfer-v6","samples":..,"lambda":..,"cv_error":..,
  ///  "shared":{"a":..,"b":..},"size_coef":[..],"per_kind":{kind:{"samples":..,"cv_error":..,
  ///  "a":..,"b":..}},"per_variant":{variant:{"samples":..,"a":..}}}.
  nlohmann::json to_json() const;

 private:
  static constexpr int kSizeTerms = 4;
  double a_ = 0, b_ = 0, mean_log_source_ = 0;
  double size_mean_[kSizeTerms] = {}, size_sd_[kSizeTerms] = {}, size_coef_[kSizeTerms] = {};
  std::map<BlockKind, double> kind_a_, kind_b_;
  std::map<std::string, double> variant_a_;
  std::map<std::string, int> variant_samples_;
  std::map<BlockKind, std::vector<double>> kind_loo_log_;          // leave-one-out log residuals
  std::map<BlockKind, std::pair<double, double>> kind_log_ratio_;  // min, max of log(t / s)
  std::pair<double, double> log_ratio_{0, 0};
  std::vector<double> loo_log_;
  double cv_error_ = 0, lambda_ = 0;
  int samples_ = 0;
};

}  // namespace hwnas
