// Backend: where block and network latencies are measured (this process, a remote agent, a fake).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluators/runtime/timing.h"
#include "profilers/device_profile.h"
#include "spaces/block_spec.h"
#include "spaces/network.h"

namespace hwnas {

/// A runtime that times blocks and whole networks. Adding a runtime (another engine, a phone
/// reached over adb, ...) means implementing these four calls. Latencies are of one inference at
/// the profile's batch size, in milliseconds, timed with evaluators/runtime/timing.h (warm-up,
/// repeats until both a count and a time are met, median). Not thread-safe: one caller at a time.
class Backend {
 public:
  virtual ~Backend() = default;
  /// Short name for logs and the table's `runs.backend` ("local", "fake", "agent http://...").
  virtual std::string name() const = 0;
  /// The profile the measurements belong to, labelled `device_name` (or the backend's own label
  /// when empty, e.g. an agent's). Throws hwnas::Error when the backend is unreachable.
  virtual DeviceProfile device(const std::string& device_name) = 0;
  /// Statistics of each block, in order (each block timed in isolation with its own input).
  /// Throws hwnas::Error naming an invalid block or an unreachable backend.
  virtual std::vector<TimingStats> measure_blocks(const std::vector<BlockSpec>& blocks,
                                                  const TimingConfig& timing) = 0;
  /// End-to-end statistics of one whole network (input allocated outside the timed region).
  virtual TimingStats measure_network(const Network& net, const TimingConfig& timing) = 0;
  /// End-to-end statistics of several networks, each timed in `windows` windows taken
  /// round-robin over the networks and merged (evaluators/runtime/timing.h merge_windows), so that
  /// a burst of interference hits one window of a network, not all of it. The default calls
  /// measure_network once per window with window_config(timing, windows); a backend that can
  /// keep models loaded between windows overrides it.
  virtual std::vector<TimingStats> measure_networks(const std::vector<Network>& nets,
                                                    const TimingConfig& timing, int windows);
  /// Per-inference overhead of each network (ms), measured inside the runtime as the time an
  /// inference spends outside its blocks (median over `windows` windows of timed forwards), or
  /// std::nullopt when the backend cannot see block boundaries. The profiler then estimates the
  /// overhead as end-to-end time minus the table's block sums, which also absorbs any drift of
  /// the host's speed between the table rows and those end-to-end runs. Default: nullopt.
  virtual std::optional<std::vector<double>> inference_overheads(const std::vector<Network>& nets,
                                                                 const TimingConfig& timing,
                                                                 int windows);
  /// How many blocks to send per measure_blocks call (one table transaction per call).
  virtual int preferred_batch() const { return 8; }
  /// Choices the backend made by timing while it timed rows, which a reader of the rows must
  /// make the same way (LocalBackend in int8-dwfaster: each depthwise shape's two timings,
  /// evaluators/quant/depthwise_speed.h). The profiler stores them with the rows as the
  /// device's calibration kKernelChoices, before the rows they decided. Null: none.
  virtual nlohmann::json kernel_choices() const { return nullptr; }
  /// Takes the choices an earlier run stored (kernel_choices' form), so that rows added to a
  /// table follow the rows already in it. Default: ignores them. Throws hwnas::Error if they
  /// are malformed.
  virtual void adopt_kernel_choices(const nlohmann::json& choices) { (void)choices; }
};

/// The name of the latency-table calibration that holds Backend::kernel_choices.
inline constexpr const char* kKernelChoices = "kernel_choices";

}  // namespace hwnas
