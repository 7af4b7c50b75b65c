#include "evaluators/runtime/timing.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <string>

#include "core/error.h"
#include "evaluators/runtime/host_activity.h"

namespace hwnas {

TimingStats summarize_ms(std::vector<double> in_order) {
  if (in_order.empty()) throw Error("timing: no samples to summarise (repeats must be >= 1)");
  std::vector<double> samples = in_order;
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
  s.samples_ms = std::move(in_order);
  return s;
}

namespace {
TimingConditions sum_conditions(const std::vector<TimingStats>& windows) {
  TimingConditions c;
  for (const auto& w : windows) {
    c.wall_ms += w.conditions.wall_ms;
    c.thread_cpu_ms += w.conditions.thread_cpu_ms;
    c.steal_ms += w.conditions.steal_ms;
    c.workers_wait_ms += w.conditions.workers_wait_ms;
    c.max_running = std::max(c.max_running, w.conditions.max_running);
    c.windows += w.conditions.windows;
    c.retimed += w.conditions.retimed;
  }
  return c;
}
}  // namespace

TimingStats merge_windows(const std::vector<TimingStats>& windows) {
  if (windows.empty()) throw Error("timing: no windows to merge");
  if (windows.size() == 1) return windows.front();
  bool all_samples = true;
  for (const auto& w : windows) all_samples = all_samples && !w.samples_ms.empty();
  std::vector<double> medians;
  for (const auto& w : windows) medians.push_back(w.median_ms);
  if (all_samples) {
    std::vector<double> pooled;
    for (const auto& w : windows)
      pooled.insert(pooled.end(), w.samples_ms.begin(), w.samples_ms.end());
    TimingStats s = summarize_ms(std::move(pooled));
    s.window_medians_ms = std::move(medians);
    for (const auto& w : windows) {
      s.window_p10_ms.push_back(w.p10_ms);
      s.window_min_ms.push_back(w.min_ms);
    }
    s.conditions = sum_conditions(windows);
    return s;
  }
  auto median_of = [&](double TimingStats::*field) {
    std::vector<double> v;
    for (const auto& w : windows) v.push_back(w.*field);
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  };
  TimingStats s;
  s.median_ms = median_of(&TimingStats::median_ms);
  s.p10_ms = median_of(&TimingStats::p10_ms);
  s.p90_ms = median_of(&TimingStats::p90_ms);
  s.mean_ms = median_of(&TimingStats::mean_ms);
  s.std_ms = median_of(&TimingStats::std_ms);
  s.min_ms = windows.front().min_ms;
  for (const auto& w : windows) {
    s.min_ms = std::min(s.min_ms, w.min_ms);
    s.repeats += w.repeats;
  }
  s.window_medians_ms = std::move(medians);
  s.conditions = sum_conditions(windows);
  return s;
}

TimingConfig window_config(const TimingConfig& config, int windows) {
  if (windows < 1) throw Error("timing: windows must be >= 1, got " + std::to_string(windows));
  TimingConfig w = config;
  w.min_repeats =
      std::max(std::min(3, config.min_repeats), (config.min_repeats + windows - 1) / windows);
  w.min_time_ms = config.min_time_ms / windows;
  w.max_repeats = std::max(w.min_repeats, config.max_repeats / windows);
  return w;
}

double window_disturbance(const TimingConditions& c) {
  if (c.windows == 0 || c.wall_ms <= 0) return 0.0;
  return std::clamp(
      std::max({1.0 - c.cpu_share(), c.steal_ms / c.wall_ms, c.workers_wait_ms / c.wall_ms}), 0.0,
      1.0);
}

namespace {
// One window of timed calls with the host's activity around it.
TimingStats time_window(const std::function<void()>& fn, const TimingConfig& config) {
  using clock = std::chrono::steady_clock;
  const HostActivity before = read_host_activity();
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
  const HostActivity after = read_host_activity();
  TimingStats s = summarize_ms(std::move(samples));
  s.conditions.wall_ms = after.wall_ms - before.wall_ms;
  s.conditions.thread_cpu_ms = after.thread_cpu_ms - before.thread_cpu_ms;
  s.conditions.steal_ms = after.steal_ms - before.steal_ms;
  s.conditions.workers_wait_ms = std::max(0.0, after.others_wait_ms - before.others_wait_ms);
  s.conditions.max_running = std::max(before.procs_running, after.procs_running);
  s.conditions.windows = 1;
  return s;
}
}  // namespace

TimingStats time_calls(const std::function<void()>& fn, const TimingConfig& config) {
  if (config.warmup < 0 || config.min_repeats < 1 || config.max_repeats < config.min_repeats ||
      config.min_time_ms < 0 || config.max_retimes < 0 || !(config.min_cpu_share >= 0) ||
      config.min_cpu_share > 1)
    throw Error(
        "timing: need warmup >= 0, 1 <= min_repeats <= max_repeats, min_time_ms >= 0, "
        "max_retimes >= 0 and min_cpu_share in [0, 1]");
  for (int i = 0; i < config.warmup; ++i) fn();
  TimingStats kept = time_window(fn, config);
  const double limit = 1.0 - config.min_cpu_share;
  int retimed = 0;
  while (retimed < config.max_retimes && window_disturbance(kept.conditions) > limit) {
    TimingStats again = time_window(fn, config);
    ++retimed;
    if (window_disturbance(again.conditions) < window_disturbance(kept.conditions))
      kept = std::move(again);
  }
  kept.conditions.retimed = retimed;
  return kept;
}

}  // namespace hwnas
