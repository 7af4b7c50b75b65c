// LocalBackend: the built-in engine in this process (evaluators/engine/measure.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "profilers/backend.h"
#include "profilers/block_timing.h"

namespace hwnas {

/// Times blocks per `timing_mode` (profilers/block_timing.h) and networks with Model, at
/// `threads` engine threads (ThreadScope), batch `batch`, random weights and input from `seed`.
class LocalBackend final : public Backend {
 public:
  /// Throws hwnas::Error if threads < 1 or batch < 1.
  explicit LocalBackend(int threads, int batch = 1, std::uint64_t seed = 0,
                        BlockTiming timing_mode = BlockTiming::cold_weights);
  /// "local (<block timing>)", recorded with every profiling run.
  std::string name() const override { return "local (" + block_timing_name(mode_) + ")"; }
  /// host_device_profile(device_name or "host", threads, batch).
  DeviceProfile device(const std::string& device_name) override;
  std::vector<TimingStats> measure_blocks(const std::vector<BlockSpec>& blocks,
                                          const TimingConfig& timing) override;
  TimingStats measure_network(const Network& net, const TimingConfig& timing) override;
  /// Keeps the networks' models built across the windows (evaluators measure_networks).
  std::vector<TimingStats> measure_networks(const std::vector<Network>& nets,
                                            const TimingConfig& timing, int windows) override;
  /// 24 blocks per transaction: the profiler's windows of one row then lie ~1-2 s apart.
  /// Measured with the engine's block trace (evaluators measure_inference_overheads).
  std::optional<std::vector<double>> inference_overheads(const std::vector<Network>& nets,
                                                         const TimingConfig& timing,
                                                         int windows) override;
  int preferred_batch() const override { return 24; }

 private:
  int threads_, batch_;
  BlockTiming mode_;
  std::uint64_t seed_;
  // Cold-weights setups of the most recently timed blocks (at most one batch): the profiler
  // times one batch in several windows and retimes disturbed ones, and rebuilding every weight
  // copy per window doubled the table's build time.
  struct Bench {
    std::unique_ptr<ColdWeightsBench> setup;
    std::uint64_t last_call = 0;
  };
  std::map<std::string, Bench> benches_;
  std::uint64_t calls_ = 0;
};

}  // namespace hwnas
