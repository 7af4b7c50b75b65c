// What else the host did while hwnas timed something: the counters a timing window reads before
// and after, so that a window disturbed by other work can be recognised and timed again
// (issue 15, step 1).
#pragma once

namespace hwnas {

/// A snapshot of the host's and the calling thread's counters.
struct HostActivity {
  double wall_ms = 0;        ///< steady clock
  double thread_cpu_ms = 0;  ///< CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID)
  /// Steal time summed over all CPUs (/proc/stat, "cpu" line, 8th field), in ms; time a KVM
  /// guest's vCPUs were runnable but the hypervisor ran something else. 0 where not accounted.
  double steal_ms = 0;
  int procs_running = 0;  ///< tasks running or runnable now, ours included (/proc/stat)
  /// Run-queue delay summed over this process's threads other than the calling one, in ms: time
  /// they were runnable but not running (/proc/self/task/*/schedstat, 2nd field, ns). The
  /// engine's workers are among them, and a worker that waits for a CPU stalls every
  /// fork-join region it has a share of, which the calling thread's own CPU time does not show
  /// (issue 15). 0 where not accounted.
  double others_wait_ms = 0;
};

/// Reads the counters (about 20 us for /proc/stat, plus about 5 us per thread of the process).
/// Where /proc is unreadable (not Linux, a sandbox), steal_ms, procs_running and others_wait_ms
/// stay 0; it never throws.
HostActivity read_host_activity();

}  // namespace hwnas
