// Engine benchmark: EfficientFormer L1/L3/L7 at batch 1, 224x224.
//  - engine/<model>/threads:T: one forward per iteration (random weights and input, seed 0, as
//    measure_network builds them); counter gflops (2 * MACs / time).
//  - engine_block_kinds/<model>/threads:T (a study): every distinct block of the model timed in
//    isolation with BlockRunner (measure_block, the latency table's hot method: 10 warm-up
//    calls, >= 20 calls and >= 100 ms), summed per block kind over the model's blocks; counters
//    <kind>_ms, <kind>_pct (share of the summed time) and <kind>_gflops (kinds with MACs), and
//    total_ms (also the benchmark's time).
// Repetitions are interleaved at random (--benchmark_enable_random_interleaving=false to keep
// registration order). hwnas_bench_gemm compares the GEMM libraries on the engine's shapes.
//
// Parameters: --model=NAME (repeated; l1, l3, l7 by default; any --arch form of `hwnas
// measure`), --threads=LIST (default 1,2).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench/bench_common.h"
#include "core/rng.h"
#include "evaluators/engine/measure.h"
#include "evaluators/engine/model.h"
#include "evaluators/engine/tensor.h"
#include "evaluators/runtime/thread_scope.h"
#include "spaces/registry.h"

namespace hwnas::bench {
namespace {

constexpr const char* kSpace = "efficientformer";
constexpr std::uint64_t kSeed = 0;  // measure_network's default
constexpr int kWarmupFirst = 10;    // forwards before the first timed loop of a model
constexpr int kWarmupAgain = 2;     // before every later one: buffers exist, caches refill

// One model with its input and output, built inside the thread scope it is timed in, as
// measure_network builds it (weights and input from kSeed, input uniform in [-1, 1)).
struct Forward {
  Network net;
  Model model;
  Tensor input, logits;
  bool warm = false;

  explicit Forward(Network n) : net(std::move(n)), model(Model::random(net, kSeed)) {
    input = Tensor(1, net.input.h, net.input.w, net.input.c);
    Rng rng(kSeed ^ 0x9e3779b97f4a7c15ull);
    for (std::size_t i = 0; i < input.size(); ++i)
      input.data()[i] = static_cast<float>(2.0 * uniform_real(rng) - 1.0);
  }
};

Forward& forward_of(const std::string& model, int threads) {
  static std::map<std::pair<std::string, int>, std::unique_ptr<Forward>> cache;
  auto& f = cache[{model, threads}];
  if (!f) f = std::make_unique<Forward>(network_of(model));
  return *f;
}

void end_to_end(benchmark::State& state, const std::string& model) {
  const int threads = static_cast<int>(state.range(0));
  ThreadScope scope(threads);
  Forward& f = forward_of(model, threads);
  warm_up(f.warm ? kWarmupAgain : kWarmupFirst, [&] { f.model.forward(f.input, f.logits); });
  f.warm = true;
  for (auto _ : state) {
    f.model.forward(f.input, f.logits);
    benchmark::ClobberMemory();
  }
  state.counters["gflops"] = benchmark::Counter(2e-9 * static_cast<double>(f.net.macs()),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void block_kinds(benchmark::State& state, const std::string& model) {
  const Network net = network_of(model);
  MeasureOptions opt;
  opt.threads = static_cast<int>(state.range(0));
  opt.timing.warmup = 10;
  opt.timing.min_repeats = 20;
  opt.timing.min_time_ms = 100;
  for (auto _ : state) {
    std::map<std::string, std::pair<double, long long>> per_kind;  // ms, MACs
    std::map<std::string, double> cache;
    for (const auto& b : net.blocks) {
      const std::string key = b.key();
      if (!cache.count(key)) cache[key] = measure_block(b, opt).median_ms;
      auto& e = per_kind[std::string(block_kind_name(b.kind))];
      e.first += cache[key];
      e.second += block_cost(b).macs;
    }
    double total = 0;
    for (const auto& [kind, v] : per_kind) total += v.first;
    for (const auto& [kind, v] : per_kind) {
      state.counters[kind + "_ms"] = v.first;
      state.counters[kind + "_pct"] = 100.0 * v.first / total;
      if (v.second > 0)  // kinds without MACs (flatten) have no GFLOP/s
        state.counters[kind + "_gflops"] = 2.0 * static_cast<double>(v.second) / (v.first * 1e6);
    }
    state.counters["total_ms"] = total;
    state.SetIterationTime(total / 1e3);
  }
}

void register_benchmarks(Params& params) {
  const auto models = params.strings("model", {"l1", "l3", "l7"});
  const auto threads = params.ints("threads", {1, 2});
  for (const auto& m : models) {
    network_of(m);  // a bad --model fails here
    timed(benchmark::RegisterBenchmark(("engine/" + m).c_str(), end_to_end, m),
          Timed{.repetitions = 5, .min_time_s = 1.0})
        ->ArgsProduct({threads})
        ->ArgNames({"threads"});
  }
  for (const auto& m : models)
    study(benchmark::RegisterBenchmark(("engine_block_kinds/" + m).c_str(), block_kinds, m))
        ->ArgsProduct({threads})
        ->ArgNames({"threads"});
  benchmark::AddCustomContext("space", kSpace);
  benchmark::AddCustomContext("batch", "1");
  benchmark::AddCustomContext("resolution", std::to_string(network_of(models.front()).input.h));
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  return hwnas::bench::run(
      argc, argv,
      {"engine",
       "  --model=NAME    an EfficientFormer member or arch (repeated; default l1, l3, l7)\n"
       "  --threads=LIST  engine thread counts (default 1,2)",
       {"--benchmark_enable_random_interleaving=true"},
       hwnas::bench::register_benchmarks});
}
