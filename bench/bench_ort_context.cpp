// Where an ONNX Runtime latency table's sum departs from the whole network's time, from the
// runtime's own profiler: the network's run split into kernel time and time between kernels
// (the executor's), against the same split of every block timed alone as the table's rows are
// (hot, one session each), per operator type. bench_block_context is the engine's counterpart.
// Studies (bench_common.h): each reports statistics of hwnas measurements (5 warm-up runs,
// >= 15 runs and >= 100 ms per model) as counters.
//  - ort_context/<arch>/threads:T/seed:S: counters
//    e2e_ms, net_kernel_ms, net_between_ms (e2e - kernel): the network's run;
//    sum_rows_ms (the table's rows: each block's run less the run cost), sum_kernel_ms,
//    sum_between_ms (each block's run less its kernels and the run cost, summed), run_cost_ms;
//    per operator type OP present anywhere: net:OP and blocks:OP (kernel ms in the network and
//    summed over the blocks alone). The benchmark's time is e2e_ms.
//
// Parameters: --arch=[SPACE:]ARCH (repeated; default elasticvit:l3), --threads=LIST (intra-op
// threads, default 1), --seed=LIST (weights and input, default 0). Needs ONNX Runtime
// (scripts/install-deps.sh).
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "results/onnxruntime_backend.h"
#include "spaces/registry.h"

namespace hwnas::bench {
namespace {

const TimingConfig kTiming{.warmup = 5, .min_repeats = 15, .min_time_ms = 100};

void network(benchmark::State& state, const std::string& arch) {
  const Network net = network_of(arch, "elasticvit");
  OnnxRuntimeOptions o;
  o.threads = static_cast<int>(state.range(0));
  o.seed = static_cast<std::uint64_t>(state.range(1));
  OnnxRuntimeBackend ort(o);
  const double cost = ort.run_cost_ms(kTiming);
  for (auto _ : state) {
    const OrtRunBreakdown whole = ort.breakdown_network(net, kTiming);
    double rows = 0, kernels = 0, between = 0;
    std::map<std::string, double> blocks_op;
    for (const auto& b : net.blocks) {
      const OrtRunBreakdown alone = ort.breakdown_block(b, kTiming);
      rows += alone.run.median_ms - cost;
      kernels += alone.kernel_ms;
      between += alone.run.median_ms - alone.kernel_ms - cost;
      for (const auto& [op, ms] : alone.op_ms) blocks_op[op] += ms;
    }
    state.counters["e2e_ms"] = whole.run.median_ms;
    state.counters["net_kernel_ms"] = whole.kernel_ms;
    state.counters["net_between_ms"] = whole.run.median_ms - whole.kernel_ms;
    state.counters["sum_rows_ms"] = rows;
    state.counters["sum_kernel_ms"] = kernels;
    state.counters["sum_between_ms"] = between;
    state.counters["run_cost_ms"] = cost;
    std::set<std::string> ops;
    for (const auto& [op, ms] : whole.op_ms) ops.insert(op);
    for (const auto& [op, ms] : blocks_op) ops.insert(op);
    for (const auto& op : ops) {
      state.counters["net:" + op] = whole.op_ms.count(op) ? whole.op_ms.at(op) : 0.0;
      state.counters["blocks:" + op] = blocks_op.count(op) ? blocks_op.at(op) : 0.0;
    }
    state.SetIterationTime(whole.run.median_ms / 1e3);
  }
}

void register_benchmarks(Params& params) {
  const auto archs = params.strings("arch", {"elasticvit:l3"});
  const std::vector<std::vector<std::int64_t>> args = {params.ints("threads", {1}),
                                                       params.ints("seed", {0})};
  for (const auto& arch : archs)
    study(benchmark::RegisterBenchmark(("ort_context/" + arch).c_str(), network, arch))
        ->ArgsProduct(args)
        ->ArgNames({"threads", "seed"});
  benchmark::AddCustomContext("batch", "1");
  benchmark::AddCustomContext("timing", "5 warm-up runs, >= 15 runs and >= 100 ms per model");
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  return hwnas::bench::run(argc, argv,
                           {"ort_context",
                            "  --arch=[SPACE:]ARCH  a network (repeated; default elasticvit:l3)\n"
                            "  --threads=LIST       intra-op threads (default 1)\n"
                            "  --seed=LIST          weights' and input's seed (default 0)",
                            {},
                            hwnas::bench::register_benchmarks});
}
