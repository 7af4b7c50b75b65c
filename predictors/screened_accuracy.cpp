#include "predictors/screened_accuracy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "predictors/surrogate_accuracy.h"

namespace hwnas {

ScreenedAccuracy::ScreenedAccuracy(const SearchSpace& space,
                                   std::shared_ptr<AccuracyPredictor> inner,
                                   ScreeningOptions options)
    : space_(space), inner_(std::move(inner)), options_(options) {
  if (!(options_.keep_fraction > 0 && options_.keep_fraction <= 1))
    throw Error("accuracy pre-screening: keep fraction must be in (0, 1], got " +
                std::to_string(options_.keep_fraction));
  stats_.heldout_kendall_tau = std::numeric_limits<double>::quiet_NaN();
}

std::vector<double> ScreenedAccuracy::predict(const std::vector<Arch>& archs) {
  std::lock_guard lock(mutex_);
  stats_.asked += static_cast<int>(archs.size());
  std::vector<double> out(archs.size(), 0.0);
  std::vector<std::size_t> real(archs.size());
  std::iota(real.begin(), real.end(), std::size_t{0});
  std::vector<double> estimate;
  const bool screening = static_cast<int>(seen_archs_.size()) >= options_.warmup &&
                         seen_archs_.size() >= 2 && archs.size() > 1;
  if (screening) {
    SurrogateAccuracy surrogate(space_, seen_archs_, seen_accuracy_,
                                SurrogateParams{options_.ridge_lambda, 2, 0}, "online");
    estimate = surrogate.predict(archs);
    // An arch asked again after it was estimated (the search confirming its front) is
    // evaluated for real whatever the surrogate thinks.
    std::vector<char> again(archs.size(), 0);
    std::size_t forced = 0;
    for (std::size_t i = 0; i < archs.size(); ++i)
      forced += again[i] = estimated_.count(space_.to_json(archs[i]).dump()) > 0;
    const std::size_t keep = std::max<std::size_t>(
        std::max<std::size_t>(1, forced),
        static_cast<std::size_t>(std::ceil(options_.keep_fraction * archs.size())));
    std::stable_sort(real.begin(), real.end(), [&](std::size_t a, std::size_t b) {
      if (again[a] != again[b]) return again[a] > again[b];
      return estimate[a] > estimate[b];
    });
    for (std::size_t k = keep; k < real.size(); ++k) {
      out[real[k]] = estimate[real[k]];
      estimated_.insert(space_.to_json(archs[real[k]]).dump());
    }
    stats_.screened += static_cast<int>(real.size() - keep);
    real.resize(keep);
    std::sort(real.begin(), real.end());
  }
  std::vector<Arch> ask;
  for (std::size_t i : real) ask.push_back(archs[i]);
  const std::vector<double> got = inner_->predict(ask);
  if (got.size() != ask.size())
    throw Error("accuracy source " + inner_->source() + " returned " + std::to_string(got.size()) +
                " values for " + std::to_string(ask.size()) + " archs");
  for (std::size_t k = 0; k < real.size(); ++k) {
    out[real[k]] = got[k];
    estimated_.erase(space_.to_json(ask[k]).dump());
    seen_archs_.push_back(ask[k]);
    seen_accuracy_.push_back(got[k]);
    if (screening) {
      heldout_pred_.push_back(estimate[real[k]]);
      heldout_true_.push_back(got[k]);
    }
  }
  stats_.evaluated += static_cast<int>(real.size());
  stats_.heldout_pairs = static_cast<int>(heldout_pred_.size());
  if (heldout_pred_.size() >= 2)
    stats_.heldout_kendall_tau = kendall_tau(heldout_pred_, heldout_true_);
  return out;
}

std::string ScreenedAccuracy::source() const {
  return inner_->source() + ", pre-screened by an online ridge surrogate (keep " +
         std::to_string(static_cast<int>(std::lround(100 * options_.keep_fraction))) +
         " % of each batch after " + std::to_string(options_.warmup) + " evaluations)";
}

std::size_t ScreenedAccuracy::samples(const Arch& arch) {
  return estimated(arch) ? 0 : inner_->samples(arch);
}

bool ScreenedAccuracy::estimated(const Arch& arch) const {
  std::lock_guard lock(mutex_);
  return estimated_.count(space_.to_json(arch).dump()) > 0;
}

ScreeningStats ScreenedAccuracy::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace hwnas
