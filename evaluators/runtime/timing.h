// The one timing method of hwnas: profiler rows, `hwnas measure` and benchmarks all use it.
#pragma once

#include <functional>
#include <vector>

namespace hwnas {

/// How to time a callable (DESIGN.md "Measurement method"): `warmup` untimed calls, then timed
/// calls until both `min_repeats` calls and `min_time_ms` of timed work are reached, capped at
/// `max_repeats`. That window is timed again, up to `max_retimes` times, while it is disturbed
/// (window_disturbance > 1 - min_cpu_share), and the least disturbed one is kept (issue 15: on a
/// shared host, a window in which another task or the hypervisor took the CPU is not a
/// measurement of hwnas).
struct TimingConfig {
  int warmup = 10;
  int min_repeats = 30;
  double min_time_ms = 200.0;
  int max_repeats = 100000;
  double min_cpu_share = 0.9;  ///< in (0, 1]; 0 turns the guard off
  int max_retimes = 2;
};

/// What else happened while calls were timed (evaluators/runtime/host_activity.h), summed over the
/// windows of a pooled measurement. All zero when unknown (stats from the fake device, or from
/// an agent of an older build).
struct TimingConditions {
  double wall_ms = 0;        ///< wall time from the first to the last timed call's end
  double thread_cpu_ms = 0;  ///< CPU time the timing thread got meanwhile
  double steal_ms = 0;       ///< steal time of the host's CPUs meanwhile (all CPUs summed)
  int max_running = 0;       ///< most tasks running or runnable seen (start or end of a window)
  int windows = 0;           ///< windows summed here
  int retimed = 0;           ///< windows timed again because they were disturbed
  /// Run-queue delay of the process's other threads meanwhile (the engine's workers; summed
  /// over threads, ms; HostActivity::others_wait_ms).
  double workers_wait_ms = 0;
  /// Share of the wall time the timing thread ran (1 = never preempted; the thread spins on the
  /// engine's workers, so preemption by another task or by the hypervisor is what lowers it).
  /// 1 when unknown.
  double cpu_share() const { return wall_ms > 0 ? thread_cpu_ms / wall_ms : 1.0; }
};

/// How disturbed a timed window was, in [0, 1]: the largest of the share of its wall time the
/// timing thread did not run (1 - cpu_share), the share lost to steal on the host's CPUs
/// (steal_ms / wall_ms), and the engine workers' run-queue delay as a share of it
/// (workers_wait_ms / wall_ms: a fork-join region waits for its slowest share, so a worker
/// kept off its CPU slows the pass while the timing thread spins or sleeps on it, unseen by its
/// CPU time). 0 when the conditions are unknown. More engine threads than free CPUs make the
/// workers wait on each other and every window counts as disturbed; TimingConfig::min_cpu_share
/// = 0 turns the guard off for such runs.
double window_disturbance(const TimingConditions& c);

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
  /// The 10th percentile and the minimum of each window, when every window carried samples
  /// (merge_windows); empty otherwise. Used to compare estimators by their repeatability.
  std::vector<double> window_p10_ms, window_min_ms;
  TimingConditions conditions;
};

/// Times `fn` per `config`, retiming a disturbed window (TimingConfig). Allocation must happen
/// before the call (the caller owns buffers), so the timed region holds only the work. Throws
/// hwnas::Error if config is inconsistent (negative counts, max_repeats < min_repeats,
/// min_cpu_share outside [0, 1]).
TimingStats time_calls(const std::function<void()>& fn, const TimingConfig& config);

/// Statistics of an existing sample of durations in ms (non-empty; throws hwnas::Error if empty).
TimingStats summarize_ms(std::vector<double> samples_ms);

/// One measurement taken in several time windows: the windows' samples pooled and summarised
/// (or, when a window carries no samples, the median of the windows' statistics), their
/// conditions summed (max_running: the largest).
/// Why windows: on a shared host, interference comes in bursts of about a second that slow
/// everything by up to 70 %; a single 100 ms window inside a burst gives a wrong median, while
/// the median of samples pooled from windows seconds apart stays right unless most windows are
/// hit (bench/README.md, "Noise"). Throws hwnas::Error if `windows` is empty.
TimingStats merge_windows(const std::vector<TimingStats>& windows);

/// `config` for one of `windows` windows: the same warm-up, and the repeat count and time
/// divided among the windows (at least 3 repeats each).
TimingConfig window_config(const TimingConfig& config, int windows);

}  // namespace hwnas
