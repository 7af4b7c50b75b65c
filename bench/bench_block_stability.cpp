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
// Mode `placements` keeps one instance and moves its input and output instead: trial t puts
// each at a random 64-byte-aligned offset in its 4 KiB page (Rng(t)), the block's own buffers
// and its kernels' per-thread scratch stay where they are. A block whose time depends on where
// its activations land relative to those (4K aliasing of loads on pending stores) spreads here.
//
// Parameters: --key=KEY (repeated; default: the first block of each kind in efficientformer l1),
// --mode=hot|cold-weights|placements (repeated; default cold-weights), --threads=LIST (default
// 2), --trials=LIST (default 12).
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "core/rng.h"
#include "evaluators/engine/block.h"
#include "evaluators/engine/param_reader.h"
#include "evaluators/runtime/thread_scope.h"
#include "evaluators/runtime/timing.h"
#include "profilers/block_timing.h"
#include "spaces/registry.h"

namespace hwnas::bench {
namespace {

const TimingConfig kTiming{.warmup = 5, .min_repeats = 15, .min_time_ms = 100};

void report(benchmark::State& state, const std::vector<double>& medians,
            const std::vector<double>& p10s, const std::vector<double>& p90s) {
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
    report(state, medians, p10s, p90s);
  }
}

void placements(benchmark::State& state, const std::string& key) {
  const BlockSpec spec = BlockSpec::parse(key);
  const int threads = static_cast<int>(state.range(0));
  const int trials = static_cast<int>(state.range(1));
  ThreadScope scope(threads);
  ParamReader reader = ParamReader::random(0);
  const std::unique_ptr<Block> block = make_block(spec, reader);
  block->reserve(1);
  const FeatureShape in = block_input_shape(spec), out = block_output_shape(spec);
  const std::size_t in_floats = static_cast<std::size_t>(in.h) * in.w * in.c;
  const std::size_t out_floats = static_cast<std::size_t>(out.h) * out.w * out.c;
  constexpr std::size_t kPage = 1024;  // floats
  const std::size_t out_base = (in_floats / kPage + 2) * kPage;
  // One page-aligned arena (AlignedBuffer is 64-byte aligned: one page of slack).
  AlignedBuffer arena(out_base + out_floats + 2 * kPage);
  const std::uintptr_t addr = reinterpret_cast<std::uintptr_t>(arena.data());
  float* const base = arena.data() + ((4096 - addr % 4096) % 4096) / sizeof(float);
  for (auto _ : state) {
    std::vector<double> medians, p10s, p90s;
    for (int t = 0; t < trials; ++t) {
      Rng rng(static_cast<std::uint64_t>(t));
      const auto in_at = static_cast<std::size_t>(uniform_int(rng, 0, 63)) * 16;
      const auto out_at = static_cast<std::size_t>(uniform_int(rng, 0, 63)) * 16;
      const Tensor x = Tensor::view(base + in_at, 1, in.h, in.w, in.c);
      Tensor y = Tensor::view(base + out_base + out_at, 1, out.h, out.w, out.c);
      for (std::size_t i = 0; i < in_floats; ++i)
        base[in_at + i] = static_cast<float>(2.0 * uniform_real(rng) - 1.0);
      const TimingStats s = time_calls([&] { block->forward(x, y); }, kTiming);
      medians.push_back(s.median_ms);
      p10s.push_back(s.p10_ms);
      p90s.push_back(s.p90_ms);
    }
    report(state, medians, p10s, p90s);
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
    for (const auto& key : keys) {
      BlockSpec::parse(key);  // a bad key fails here
      const std::string name = "block_stability/" + mode + "/" + key;
      Bench* b = mode == "placements" ? benchmark::RegisterBenchmark(name.c_str(), placements, key)
                                      : benchmark::RegisterBenchmark(name.c_str(), stability, key,
                                                                     block_timing_from_name(mode));
      study(b)->ArgsProduct(args)->ArgNames({"threads", "trials"});
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
       "  --mode=MODE       hot, cold-weights or placements (repeated; default cold-weights)\n"
       "  --threads=LIST    engine threads (default 2)\n"
       "  --trials=LIST     fresh instances timed, or placements (default 12)",
       {},
       hwnas::bench::register_benchmarks});
}
