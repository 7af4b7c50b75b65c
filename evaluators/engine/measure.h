// End-to-end and per-block latency of the built-in engine (DESIGN.md "Measurement method").
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "evaluators/ops/layer_log.h"
#include "evaluators/runtime/timing.h"
#include "spaces/block_spec.h"
#include "spaces/network.h"

namespace hwnas {

/// Turns a freshly built model or block into the variant that is timed (int8:
/// evaluators/quant/'s int8_timing_preparer): receives the layers int8 applies to (GEMM and
/// depthwise) and a callable running one forward on the timing input, before any timed call.
using TimingPreparer =
    std::function<void(const QuantizableLayers& layers, const std::function<void()>& forward)>;

struct MeasureOptions {
  int threads = 2;
  int batch = 1;
  TimingConfig timing;
  std::uint64_t seed = 0;
  TimingPreparer prepare;  ///< empty: time the fp32 engine as built
};

/// Latency of one forward of `net` (ms; random weights from seed, random input), at
/// opt.threads threads (ThreadScope) and opt.batch images; buffers are allocated before timing.
/// Throws hwnas::Error for threads/batch < 1 or an inconsistent network.
TimingStats measure_network(const Network& net, const MeasureOptions& opt);
/// Latencies of several networks, each timed in `windows` windows taken round-robin over the
/// networks, in a random order per window drawn from opt.seed (randomised interleaving;
/// window_config splits opt.timing), merged with merge_windows: the windows of one
/// network lie seconds apart, so a burst of interference on a shared host hits one of them.
/// All models stay built meanwhile (memory: the sum of the networks' weights). Same errors as
/// measure_network; windows >= 1.
std::vector<TimingStats> measure_networks(const std::vector<Network>& nets,
                                          const MeasureOptions& opt, int windows);
/// Per-inference overhead of each network in the engine (ms): the median over timed forwards
/// (Model::forward_trace, `windows` windows round-robin as in measure_networks) of the time a
/// forward spends outside its blocks, i.e. its wall time minus the time from its start to the
/// end of its last block. The engine dispatches nothing but blocks, so this is the dispatch and
/// return cost (microseconds); effects of the blocks' context inside a network (cache state,
/// thread wake-up) stay in the blocks' in-network times. The input shape check before the first
/// block (a few comparisons) is not separated. Same errors as measure_networks.
std::vector<double> measure_inference_overheads(const std::vector<Network>& nets,
                                                const MeasureOptions& opt, int windows);
/// Latency of one block in isolation via BlockRunner (ms), same conditions.
TimingStats measure_block(const BlockSpec& spec, const MeasureOptions& opt);

}  // namespace hwnas
