// FakeBackend: seeded, deterministic latencies from a cost formula (nn-Meter's debug backend),
// so table building, predictor fitting and CLI tests run in CI without timing noise.
#pragma once

#include <cstdint>
#include <string>

#include "profilers/backend.h"

namespace hwnas {

/// Options of the fake device. The latency of a block is
///   t = (base_ms + macs / macs_per_ms + bytes / bytes_per_ms) * jitter(key, seed)
/// with bytes = 4 * (input + output elements + params) and jitter a deterministic factor in
/// [1 - jitter, 1 + jitter] from a hash of the key and the seed. A network costs
///   overhead_ms + sum_i t_i * (1 + kind_bias[kind_i]) + per_block_ms * blocks
/// so a learned correction has a real, known effect to fit (meta3d blocks run slower inside the
/// network than alone; every block boundary costs per_block_ms).
struct FakeBackendOptions {
  std::uint64_t seed = 0;
  int threads = 2;
  double base_ms = 0.002;
  double macs_per_ms = 2.0e7;   // 20 GMAC/s
  double bytes_per_ms = 1.0e7;  // 10 GB/s
  double jitter = 0.05;
  double overhead_ms = 0.05;
  double meta3d_bias = 0.04;
  double per_block_ms = 0.001;
  /// Throws after this many blocks have been measured in total (-1: never): simulates a profile
  /// killed mid-batch.
  long fail_after_blocks = -1;
};

class FakeBackend final : public Backend {
 public:
  explicit FakeBackend(FakeBackendOptions options = {}) : opt_(options) {}
  std::string name() const override { return "fake"; }
  /// Profile with cpu_model "fake-cpu seed=<seed>", runtime "hwnas-fake 1", the option threads.
  DeviceProfile device(const std::string& device_name) override;
  std::vector<TimingStats> measure_blocks(const std::vector<BlockSpec>& blocks,
                                          const TimingConfig& timing) override;
  TimingStats measure_network(const Network& net, const TimingConfig& timing) override;

  /// The formula's block latency in ms (the median measure_blocks reports).
  double block_ms(const BlockSpec& block) const;
  /// The formula's end-to-end latency in ms (the median measure_network reports).
  double network_ms(const Network& net) const;
  /// Blocks measured so far (for tests of resume).
  long blocks_measured() const { return measured_; }

 private:
  FakeBackendOptions opt_;
  long measured_ = 0;
};

}  // namespace hwnas
