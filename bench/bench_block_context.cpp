// Block latency in isolation (as the latency table measures it) versus inside the whole network
// (Model::forward_trace, timestamps between blocks), per block of one arch. Shows where a LUT sum
// departs from end-to-end time (cache state, boundaries, per-inference overhead). Studies
// (bench_common.h): they report statistics of hwnas measurements (evaluators/runtime/timing.h: 5
// warm-up calls, >= 15 calls and >= 100 ms) as counters.
//  - block_context/<arch>/block:I/threads:T/forwards:F/seed:S, label = the block's key: block I
//    timed alone hot (measure_block) and with cold weights (time_block cold_weights) one after
//    the other, and its median time inside F traced forwards (after 5 warm-up forwards; weights
//    and input from S); counters hot_ms, cold_ms, in_net_ms, in_net_over_hot,
//    in_net_over_cold. The benchmark's time is hot_ms.
//  - block_context/<arch>/network/...: the sums over the blocks (sum_hot_ms, sum_cold_ms,
//    sum_in_net_ms), the traced forward's median (traced_ms), measure_network's median (e2e_ms,
//    also the benchmark's time) and e2e_over_sum_hot, e2e_over_sum_cold. Blocks not yet timed by
//    their own benchmark in this run are timed here.
//  - behind_ms (block counter): block I timed hot, each timed call preceded by an untimed call of
//    its real predecessor in the network (block I-1; for the first block, the last block, which
//    ends the previous forward). Its own code and data stay as hot as in hot_ms, while the
//    predecessor's code runs in between as inside the network: in_net_over_behind near 1 with
//    in_net_over_hot above 1 says that the neighbour, not the cache state of weights or input,
//    makes the block slower inside the network (issue 15, step 5: blocks inside short chains of
//    their real neighbours).
//  - flushed_ms (block counter): block I timed hot, each timed call preceded by an untimed pass
//    that writes and reads kFlushBytes, more than any last-level cache these hosts have, so every
//    buffer the block touches (weights, input, output, its kernels' scratch, its code) starts in
//    memory, as after the rest of a forward larger than the cache. in_net_over_flushed near 1
//    says the block's gap inside the network is cache state; above 1, something else.
//
// Parameters: --arch=[SPACE:]ARCH (repeated; default efficientformer:l1; ARCH as `hwnas
// measure --arch`), --threads=LIST (default 2), --forwards=LIST (default 40), --seed=LIST
// (default 0).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "bench/bench_common.h"
#include "evaluators/engine/block.h"
#include "evaluators/engine/measure.h"
#include "evaluators/engine/model.h"
#include "evaluators/runtime/thread_scope.h"
#include "evaluators/runtime/timing.h"
#include "profilers/block_timing.h"
#include "spaces/registry.h"

namespace hwnas::bench {
namespace {

using Clock = std::chrono::steady_clock;

const TimingConfig kTiming{.warmup = 5, .min_repeats = 15, .min_time_ms = 100};

struct BlockTimes {
  double hot_ms = 0, cold_ms = 0, behind_ms = 0, flushed_ms = 0, in_net_ms = 0;
};

// Block `k` of `net` with weights from `seed` + k, reserved for batch 1, and its own input and
// output.
struct Instance {
  std::unique_ptr<Block> block;
  Tensor in, out;
  Instance(const Network& net, std::size_t k, std::uint64_t seed) {
    ParamReader reader = ParamReader::random(seed + k);
    block = make_block(net.blocks[k], reader);
    block->reserve(1);
    const FeatureShape fi = block_input_shape(net.blocks[k]);
    const FeatureShape fo = block_output_shape(net.blocks[k]);
    in = Tensor(1, fi.h, fi.w, fi.c);
    out = Tensor(1, fo.h, fo.w, fo.c);
  }
  void forward() { block->forward(in, out); }
};

// Block `i` of `net` timed hot, each timed call preceded by an untimed call of `before`: the
// median over the calls after `kTiming.warmup`, of at least `kTiming.min_repeats` calls and
// `kTiming.min_time_ms` of timed time.
template <class Before>
double time_after(const Network& net, std::size_t i, std::uint64_t seed, Before&& before) {
  Instance self(net, i, seed);
  std::vector<double> samples;
  double timed_ms = 0;
  for (int call = 0;
       call < kTiming.warmup || static_cast<int>(samples.size()) < kTiming.min_repeats ||
       timed_ms < kTiming.min_time_ms;
       ++call) {
    before();
    const auto start = Clock::now();
    self.forward();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (call < kTiming.warmup) continue;
    samples.push_back(ms);
    timed_ms += ms;
  }
  return summarize_ms(samples).median_ms;
}

// behind_ms above: block `i` behind an untimed call of its predecessor (for the first block,
// the last, which ends the previous forward).
double time_behind_predecessor(const Network& net, std::size_t i, std::uint64_t seed) {
  Instance pred(net, i == 0 ? net.blocks.size() - 1 : i - 1, seed);
  return time_after(net, i, seed, [&] { pred.forward(); });
}

// 256 MiB: above the 32-105 MiB of L3 real hosts have. A VM's reported size is not trusted
// (issue 15), so the size is fixed, not read from the platform.
constexpr std::size_t kFlushBytes = std::size_t{256} << 20;

// flushed_ms above: block `i` after a pass over kFlushBytes, written then read.
double time_flushed(const Network& net, std::size_t i, std::uint64_t seed) {
  std::vector<std::uint64_t> junk(kFlushBytes / sizeof(std::uint64_t));
  std::uint64_t round = 0;
  volatile std::uint64_t sink = 0;
  return time_after(net, i, seed, [&] {
    ++round;
    for (auto& x : junk) x = round;
    std::uint64_t sum = 0;
    for (auto x : junk) sum += x;
    sink = sink + sum;
  });
}

// One (arch, threads, forwards, seed): the traced forwards, taken once, and each block's times as
// its benchmark last measured them.
struct Study {
  Network net;
  int threads = 2;
  std::uint64_t seed = 0;
  std::vector<double> in_net_ms;  // median per block
  double traced_ms = 0;           // median traced forward
  std::vector<std::optional<BlockTimes>> blocks;

  Study(const std::string& arch, int threads_, int forwards, std::uint64_t seed_)
      : net(network_of(arch)), threads(threads_), seed(seed_) {
    const std::size_t nb = net.blocks.size();
    ThreadScope scope(threads);
    Model model = Model::random(net, seed);
    Tensor input(1, net.input.h, net.input.w, net.input.c);
    Tensor logits;
    model.forward(input, logits);
    std::vector<std::vector<double>> per_block(nb);
    std::vector<double> whole;
    for (int f = 0; f < forwards + 5; ++f) {
      std::vector<double> t(nb);
      auto prev = Clock::now();
      const auto start = prev;
      model.forward_trace(input, [&](std::size_t i, const Tensor&) {
        const auto now = Clock::now();
        t[i] = std::chrono::duration<double, std::milli>(now - prev).count();
        prev = now;
      });
      const double total = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      if (f < 5) continue;  // warm-up
      for (std::size_t i = 0; i < nb; ++i) per_block[i].push_back(t[i]);
      whole.push_back(total);
    }
    for (auto& v : per_block) in_net_ms.push_back(summarize_ms(v).median_ms);
    traced_ms = summarize_ms(whole).median_ms;
    blocks.resize(nb);
  }

  BlockTimes time_block_alone(std::size_t i) {
    MeasureOptions mo;
    mo.threads = threads;
    mo.seed = seed;
    mo.timing = kTiming;
    BlockTimes t;
    t.hot_ms = measure_block(net.blocks[i], mo).median_ms;
    t.cold_ms =
        time_block(net.blocks[i], BlockTiming::cold_weights, threads, 1, 0, kTiming).median_ms;
    {
      ThreadScope scope(threads);
      t.behind_ms = time_behind_predecessor(net, i, seed);
      t.flushed_ms = time_flushed(net, i, seed);
    }
    t.in_net_ms = in_net_ms[i];
    blocks[i] = t;
    return t;
  }
};

Study& study_of(const std::string& arch, const benchmark::State& state) {
  static std::map<std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t>,
                  std::unique_ptr<Study>>
      cache;
  auto& s = cache[{arch, state.range(0), state.range(1), state.range(2)}];
  if (!s)
    s = std::make_unique<Study>(arch, static_cast<int>(state.range(0)),
                                static_cast<int>(state.range(1)),
                                static_cast<std::uint64_t>(state.range(2)));
  return *s;
}

void block(benchmark::State& state, const std::string& arch, std::size_t i) {
  Study& s = study_of(arch, state);
  for (auto _ : state) {
    const BlockTimes t = s.time_block_alone(i);
    state.counters["hot_ms"] = t.hot_ms;
    state.counters["cold_ms"] = t.cold_ms;
    state.counters["behind_ms"] = t.behind_ms;
    state.counters["in_net_ms"] = t.in_net_ms;
    state.counters["in_net_over_hot"] = t.in_net_ms / t.hot_ms;
    state.counters["in_net_over_behind"] = t.in_net_ms / t.behind_ms;
    state.counters["flushed_ms"] = t.flushed_ms;
    state.counters["in_net_over_flushed"] = t.in_net_ms / t.flushed_ms;
    state.counters["in_net_over_cold"] = t.in_net_ms / t.cold_ms;
    state.SetIterationTime(t.hot_ms / 1e3);
  }
  state.SetLabel(s.net.blocks[i].key());
}

void network(benchmark::State& state, const std::string& arch) {
  Study& s = study_of(arch, state);
  for (auto _ : state) {
    double sum_hot = 0, sum_cold = 0, sum_in_net = 0;
    for (std::size_t i = 0; i < s.blocks.size(); ++i) {
      const BlockTimes t = s.blocks[i] ? *s.blocks[i] : s.time_block_alone(i);
      sum_hot += t.hot_ms;
      sum_cold += t.cold_ms;
      sum_in_net += t.in_net_ms;
    }
    MeasureOptions mo;
    mo.threads = s.threads;
    mo.seed = s.seed;
    mo.timing = kTiming;
    const double e2e = measure_network(s.net, mo).median_ms;
    state.counters["sum_hot_ms"] = sum_hot;
    state.counters["sum_cold_ms"] = sum_cold;
    state.counters["sum_in_net_ms"] = sum_in_net;
    state.counters["traced_ms"] = s.traced_ms;
    state.counters["e2e_ms"] = e2e;
    state.counters["e2e_over_sum_hot"] = e2e / sum_hot;
    state.counters["e2e_over_sum_cold"] = e2e / sum_cold;
    state.SetIterationTime(e2e / 1e3);
  }
}

void register_benchmarks(Params& params) {
  const auto archs = params.strings("arch", {"efficientformer:l1"});
  const std::vector<std::vector<std::int64_t>> args = {
      params.ints("threads", {2}), params.ints("forwards", {40}), params.ints("seed", {0})};
  for (const auto& arch : archs) {
    const Network net = network_of(arch);
    for (std::size_t i = 0; i < net.blocks.size(); ++i) {
      const std::string name =
          "block_context/" + arch + "/block:" + (i < 10 ? "0" : "") + std::to_string(i);
      study(benchmark::RegisterBenchmark(name.c_str(), block, arch, i))
          ->ArgsProduct(args)
          ->ArgNames({"threads", "forwards", "seed"});
    }
    study(
        benchmark::RegisterBenchmark(("block_context/" + arch + "/network").c_str(), network, arch))
        ->ArgsProduct(args)
        ->ArgNames({"threads", "forwards", "seed"});
  }
  benchmark::AddCustomContext("batch", "1");
  benchmark::AddCustomContext("block_timing", "5 warm-up calls, >= 15 calls and >= 100 ms");
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  return hwnas::bench::run(
      argc, argv,
      {"block_context",
       "  --arch=[SPACE:]ARCH  a network (repeated; default efficientformer:l1)\n"
       "  --threads=LIST       engine threads (default 2)\n"
       "  --forwards=LIST      traced forwards (default 40)\n"
       "  --seed=LIST          weights' seed (default 0)",
       {},
       hwnas::bench::register_benchmarks});
}
