// Which block kinds carry a latency table's systematic error: the relative residuals of whole
// networks regressed on each kind's share of the prediction (issue 15, step 5). nn-Meter reports
// per-kernel error; here only end-to-end times exist, so the per-kind error is inferred.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "predictors/latency_correction.h"

namespace hwnas {

/// One block kind's part in the error. A kind whose rows are off by a factor (1 + e) inside
/// networks (its rows sum to (1 + e) times its in-network time) adds e / (1 + e) of its row sum
/// to every network's residual; `relative_error` is that e, fitted over all networks.
struct KindResidual {
  std::string kind;           ///< block_kind_name, or "overhead" for the per-inference overhead
  double mean_share = 0;      ///< mean over networks of the kind's row sum / predicted (fraction)
  double mean_blocks = 0;     ///< mean number of blocks of the kind per network
  double relative_error = 0;  ///< fitted e (0.05 = the kind's rows predict 5 % high)
  /// false when the fit cannot tell the kind's time from the others' (a fitted a <= 0.05, i.e.
  /// e beyond +1900 %): relative_error and contribution are then meaningless (JSON null)
  bool identified = true;
  /// mean over networks of the kind's excess (row sum * e / (1 + e)) / measured: its part of the
  /// mean relative residual (predicted - measured) / measured
  double contribution = 0;
};

/// Fits measured_i = sum_k a_k * kind_ms_ik + a_o * overhead_i by least squares on rows divided
/// by measured_i (so each network weighs by its relative error), with a small ridge pulling every
/// a toward 1 (a table without systematic error) so that kinds that always occur together stay
/// finite; then e_k = 1 / a_k - 1. Kinds absent from every network are left out; the result is
/// ordered by |contribution|, largest first. Throws hwnas::Error if the lengths differ, fewer
/// than 2 networks are given, or a measured or predicted time is <= 0.
std::vector<KindResidual> residuals_by_kind(const std::vector<LatencyFeatures>& features,
                                            const std::vector<double>& measured_ms);

/// [{"kind","mean_share","mean_blocks","relative_error","contribution"}, ...]
nlohmann::json residuals_json(const std::vector<KindResidual>& residuals);

}  // namespace hwnas
