// Engine benchmark: end-to-end latency of EfficientFormer L1/L3/L7 (batch 1, 224x224),
// GFLOP/s (2 * MACs / time) and time per block kind (each block timed in isolation with
// BlockRunner, summed over the network's blocks of that kind).
//
// Usage: hwnas_bench_engine [--threads T] [--models l1,l3,l7] [--blocks]
//   --blocks  also time every block of each model in isolation, grouped by kind
// (hwnas_bench_gemm compares the GEMM libraries on the engine's shapes.)
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "evaluators/measure.h"
#include "evaluators/tensor.h"
#include "evaluators/thread_scope.h"
#include "evaluators/timing.h"
#include "spaces/registry.h"

using namespace hwnas;

int main(int argc, char** argv) {
  int threads = 2;
  bool blocks = false;
  std::vector<std::string> models = {"l1", "l3", "l7"};
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--blocks"))
      blocks = true;
    else if (!std::strcmp(argv[i], "--models") && i + 1 < argc) {
      models.clear();
      std::stringstream ss(argv[++i]);
      std::string m;
      while (std::getline(ss, m, ',')) models.push_back(m);
    } else {
      std::fprintf(stderr, "usage: %s [--threads T] [--models l1,l3,l7] [--blocks]\n", argv[0]);
      return 2;
    }
  }
  try {
    const SearchSpace& space = get_space("efficientformer");
    MeasureOptions opt;
    opt.threads = threads;
    opt.timing.warmup = 10;
    opt.timing.min_repeats = 30;
    opt.timing.min_time_ms = 1000;
    std::printf("EfficientFormer, batch 1, 224x224, %d thread(s)\n", threads);
    std::printf("%-6s %10s %10s %10s %10s %8s %10s\n", "model", "median_ms", "p10_ms", "p90_ms",
                "min_ms", "repeats", "GFLOP/s");
    for (const auto& name : models) {
      const Network net = space.decode(space.resolve(name));
      const TimingStats st = measure_network(net, opt);
      std::printf("%-6s %10.2f %10.2f %10.2f %10.2f %8d %10.1f\n", name.c_str(), st.median_ms,
                  st.p10_ms, st.p90_ms, st.min_ms, st.repeats,
                  2.0 * static_cast<double>(net.macs()) / (st.median_ms * 1e6));
      std::fflush(stdout);
      if (!blocks) continue;
      std::map<std::string, std::pair<double, long long>> per_kind;  // ms, MACs
      MeasureOptions bopt = opt;
      bopt.timing.min_time_ms = 100;
      bopt.timing.min_repeats = 20;
      std::map<std::string, double> cache;
      for (const auto& b : net.blocks) {
        const std::string key = b.key();
        if (!cache.count(key)) cache[key] = measure_block(b, bopt).median_ms;
        auto& e = per_kind[std::string(block_kind_name(b.kind))];
        e.first += cache[key];
        e.second += block_cost(b).macs;
      }
      double total = 0;
      for (const auto& [k, v] : per_kind) total += v.first;
      std::printf("  per block kind (isolated, summed; total %.2f ms):\n", total);
      for (const auto& [k, v] : per_kind)
        std::printf("    %-11s %8.2f ms %6.1f%% %8.1f GFLOP/s\n", k.c_str(), v.first,
                    100.0 * v.first / total, v.second ? 2.0 * v.second / (v.first * 1e6) : 0.0);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
