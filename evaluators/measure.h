// End-to-end and per-block latency of the built-in engine (DESIGN.md "Measurement method").
#pragma once

#include <cstdint>

#include "evaluators/timing.h"
#include "spaces/block_spec.h"
#include "spaces/network.h"

namespace hwnas {

struct MeasureOptions {
  int threads = 2;
  int batch = 1;
  TimingConfig timing;
  std::uint64_t seed = 0;
};

/// Latency of one forward of `net` (ms; random weights from seed, random input), at
/// opt.threads threads (ThreadScope) and opt.batch images; buffers are allocated before timing.
/// Throws hwnas::Error for threads/batch < 1 or an inconsistent network.
TimingStats measure_network(const Network& net, const MeasureOptions& opt);
/// Latency of one block in isolation via BlockRunner (ms), same conditions.
TimingStats measure_block(const BlockSpec& spec, const MeasureOptions& opt);

}  // namespace hwnas
