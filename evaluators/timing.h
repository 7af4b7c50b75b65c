// The one timing method of hwnas: profiler rows, `hwnas measure` and benchmarks all use it.
#pragma once

#include <functional>
#include <vector>

namespace hwnas {

/// How to time a callable (DESIGN.md "Measurement method"): `warmup` untimed calls, then timed
/// calls until both `min_repeats` calls and `min_time_ms` of timed work are reached, capped at
/// `max_repeats`.
struct TimingConfig {
  int warmup = 10;
  int min_repeats = 30;
  double min_time_ms = 200.0;
  int max_repeats = 100000;
};

/// Statistics of the timed calls, in milliseconds (steady_clock). p10/p90 are nearest-rank.
struct TimingStats {
  double median_ms = 0;
  double p10_ms = 0;
  double p90_ms = 0;
  double mean_ms = 0;
  double std_ms = 0;
  double min_ms = 0;
  int repeats = 0;
  /// The timed durations in call order (empty when the stats came over the wire).
  std::vector<double> samples_ms;
  /// The median of each timing window, in window order, when these stats pool several windows
  /// (merge_windows); empty for a single window. Two windows of the same network are two
  /// independent measurements of it, so their spread is the host's measurement noise.
  std::vector<double> window_medians_ms;
};

/// Times `fn` per `config`. Allocation must happen before the call (the caller owns buffers),
/// so the timed region holds only the work. Throws hwnas::Error if config is inconsistent
/// (negative counts, max_repeats < min_repeats).
TimingStats time_calls(const std::function<void()>& fn, const TimingConfig& config);

/// Statistics of an existing sample of durations in ms (non-empty; throws hwnas::Error if empty).
TimingStats summarize_ms(std::vector<double> samples_ms);

/// One measurement taken in several time windows: the windows' samples pooled and summarised
/// (or, when a window carries no samples, the median of the windows' statistics).
/// Why windows: on a shared host, interference comes in bursts of about a second that slow
/// everything by up to 70 %; a single 100 ms window inside a burst gives a wrong median, while
/// the median of samples pooled from windows seconds apart stays right unless most windows are
/// hit (bench/README.md, "Noise"). Throws hwnas::Error if `windows` is empty.
TimingStats merge_windows(const std::vector<TimingStats>& windows);

/// `config` for one of `windows` windows: the same warm-up, and the repeat count and time
/// divided among the windows (at least 3 repeats each).
TimingConfig window_config(const TimingConfig& config, int windows);

}  // namespace hwnas
