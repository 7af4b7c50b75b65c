// LatencyCorrection: a learned correction of the plain LUT sum, fitted on end-to-end
// measurements of sampled subnets (nn-Meter and HELP note that kernel sums drift from whole-model
// time; here a ridge regression on per-block-kind sums absorbs the drift).
#pragma once

#include <array>
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

 private:
  double intercept_ = 0;
  std::array<double, kBlockKindCount> scale_{};
  std::array<double, kBlockKindCount> per_block_{};
  double lambda_ = 0;
  int samples_ = 0;
};

}  // namespace hwnas
