#include "evaluators/timing.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "spaces/error.h"

namespace hwnas {

TimingStats summarize_ms(std::vector<double> samples) {
  if (samples.empty()) throw Error("timing: no samples to summarise (repeats must be >= 1)");
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  // Nearest-rank percentile on the sorted sample.
  auto pct = [&](double p) {
    std::size_t rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(n)));
    return samples[std::clamp<std::size_t>(rank, 1, n) - 1];
  };
  TimingStats s;
  s.repeats = static_cast<int>(n);
  s.min_ms = samples.front();
  s.median_ms = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
  s.p10_ms = pct(0.10);
  s.p90_ms = pct(0.90);
  s.mean_ms = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(n);
  double var = 0;
  for (double x : samples) var += (x - s.mean_ms) * (x - s.mean_ms);
  s.std_ms = n > 1 ? std::sqrt(var / static_cast<double>(n - 1)) : 0.0;
  return s;
}

TimingStats time_calls(const std::function<void()>& fn, const TimingConfig& config) {
  if (config.warmup < 0 || config.min_repeats < 1 || config.max_repeats < config.min_repeats ||
      config.min_time_ms < 0)
    throw Error("timing: need warmup >= 0, 1 <= min_repeats <= max_repeats, min_time_ms >= 0");
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < config.warmup; ++i) fn();
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(config.min_repeats));
  double total_ms = 0;
  while (static_cast<int>(samples.size()) < config.max_repeats &&
         (static_cast<int>(samples.size()) < config.min_repeats || total_ms < config.min_time_ms)) {
    const auto t0 = clock::now();
    fn();
    const auto t1 = clock::now();
    const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    samples.push_back(ms);
    total_ms += ms;
  }
  return summarize_ms(std::move(samples));
}

}  // namespace hwnas
