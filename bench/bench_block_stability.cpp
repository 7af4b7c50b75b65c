// Repeatability of one block's isolated latency: the same BlockSpec timed several times, each
// trial with a fresh instance (fresh allocations and weights from seed = trial, as the profiler
// does per row), by time_block (evaluators/runtime/timing.h: 5 warm-up calls, >= 15 calls and >=
// 100 ms). A block whose medians fall into two clusters cannot be tabulated to a few per cent; this
// separates such instability from the block-versus-network question of bench_block_context.
// A study (bench_common.h):
//  block_stability/<mode>/<key>/threads:T/trials:N: counters median_of_medians_ms,
//  min_median_ms, max_median_ms, max_over_min, and the trials' median p10 and p90 (p10_ms,
//  p90_ms); the benchmark's time is the median of the trials' medians.
//
// Parameters: --key=KEY (repeated; default: the first block of each kind in efficientformer l1),
// --mode=hot|cold-weights (repeated; default cold-weights), --threads=LIST (default 2),
// --trials=LIST (default 12).
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "evaluators/runtime/timing.h"
#include "profilers/block_timing.h"
#include "spaces/registry.h"

namespace hwnas::bench {
namespace {

const TimingConfig kTiming{.warmup = 5, .min_repeats = 15, .min_time_ms = 100};

void stability(benchmark::State& state, const std::string& key, BlockTiming mode) {
  const BlockSpec spec = BlockSpec::parse(key);
  const int threads = static_cast<int>(state.range(0));
  const int trials = static_cast<int>(state.range(1));
  for (auto _ : state) {
    std::vector<double> medians, p10s, p90s;
    for (int t = 0; t < trials; ++t) {
      const TimingStats s =
          time_block(spec, mode, threads, 1, static_cast<std::uint64_t>(t), kTiming);
      medians.push_back(s.median_ms);
      p10s.push_back(s.p10_ms);
      p90s.push_back(s.p90_ms);
    }
    const auto [lo, hi] = std::minmax_element(medians.begin(), medians.end());
    const double mid = summarize_ms(medians).median_ms;
    state.counters["median_of_medians_ms"] = mid;
    state.counters["min_median_ms"] = *lo;
    state.counters["max_median_ms"] = *hi;
    state.counters["max_over_min"] = *hi / *lo;
    state.counters["p10_ms"] = summarize_ms(p10s).median_ms;
    state.counters["p90_ms"] = summarize_ms(p90s).median_ms;
    state.SetIterationTime(mid / 1e3);
  }
}

// The first block of each kind in EfficientFormer-L1, in network order.
std::vector<std::string> default_keys() {
  const SearchSpace& space = get_space("efficientformer");
  const Network net = space.decode(space.resolve("l1"));
  std::set<BlockKind> seen;
  std::vector<std::string> keys;
  for (const auto& b : net.blocks)
    if (seen.insert(b.kind).second) keys.push_back(b.key());
  return keys;
}

void register_benchmarks(Params& params) {
  const auto keys = params.strings("key", default_keys());
  const auto modes = params.strings("mode", {"cold-weights"});
  const std::vector<std::vector<std::int64_t>> args = {params.ints("threads", {2}),
                                                       params.ints("trials", {12})};
  for (const auto& mode : modes) {
    const BlockTiming m = block_timing_from_name(mode);
    for (const auto& key : keys) {
      BlockSpec::parse(key);  // a bad key fails here
      const std::string name = "block_stability/" + mode + "/" + key;
      study(benchmark::RegisterBenchmark(name.c_str(), stability, key, m))
          ->ArgsProduct(args)
          ->ArgNames({"threads", "trials"});
    }
  }
  benchmark::AddCustomContext("batch", "1");
  benchmark::AddCustomContext("block_timing", "5 warm-up calls, >= 15 calls and >= 100 ms");
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  return hwnas::bench::run(
      argc, argv,
      {"block_stability",
       "  --key=KEY         a block key, e.g. meta4d:c=48,h=56,w=56,pool=3,mlp=4 (repeated;\n"
       "                    default: the first block of each kind in efficientformer l1)\n"
       "  --mode=MODE       hot or cold-weights (repeated; default cold-weights)\n"
       "  --threads=LIST    engine threads (default 2)\n"
       "  --trials=LIST     fresh instances timed (default 12)",
       {},
       hwnas::bench::register_benchmarks});
}
