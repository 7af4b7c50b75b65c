// Block latency in isolation (BlockRunner, as the latency table measures it) versus inside the
// whole network (Model::forward_trace, timestamps between blocks), per block of one arch. Shows
// where a LUT sum departs from end-to-end time (cache state, boundaries, per-inference overhead).
// Usage: hwnas_bench_block_context [[space:]arch=efficientformer:l1] [threads=2] [forwards=40]
// [seed=0]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "evaluators/measure.h"
#include "evaluators/model.h"
#include "evaluators/thread_scope.h"
#include "evaluators/timing.h"
#include "profilers/block_timing.h"
#include "spaces/registry.h"

int main(int argc, char** argv) {
  using namespace hwnas;
  using Clock = std::chrono::steady_clock;
  const std::string spec = argc > 1 ? argv[1] : "l1";
  const auto colon = spec.find(':');
  const std::string space_name =
      colon == std::string::npos ? "efficientformer" : spec.substr(0, colon);
  const std::string arch = colon == std::string::npos ? spec : spec.substr(colon + 1);
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int forwards = argc > 3 ? std::atoi(argv[3]) : 40;
  const std::uint64_t seed = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 0;
  const SearchSpace& space = get_space(space_name);
  const Network net = space.decode(space.resolve(arch));
  ThreadScope scope(threads);
  Model model = Model::random(net, seed);
  Tensor input(1, net.input.h, net.input.w, net.input.c);
  Tensor logits;
  model.forward(input, logits);
  const std::size_t nb = net.blocks.size();
  std::vector<std::vector<double>> in_net(nb);
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
    for (std::size_t i = 0; i < nb; ++i) in_net[i].push_back(t[i]);
    whole.push_back(total);
  }
  MeasureOptions mo;
  mo.threads = threads;
  mo.seed = seed;
  mo.timing = TimingConfig{.warmup = 5, .min_repeats = 15, .min_time_ms = 100};
  double sum_iso = 0, sum_cold = 0, sum_net = 0;
  std::printf("%-58s %9s %9s %9s %6s %6s\n", "block", "hot ms", "cold ms", "in-net", "n/hot",
              "n/cold");
  for (std::size_t i = 0; i < nb; ++i) {
    const double iso = measure_block(net.blocks[i], mo).median_ms;
    const double cold =
        time_block(net.blocks[i], BlockTiming::cold_weights, threads, 1, 0, mo.timing).median_ms;
    const double inn = summarize_ms(in_net[i]).median_ms;
    sum_iso += iso;
    sum_cold += cold;
    sum_net += inn;
    std::printf("%-58s %9.4f %9.4f %9.4f %6.3f %6.3f\n", net.blocks[i].key().c_str(), iso, cold,
                inn, inn / iso, inn / cold);
  }
  std::printf("sum cold-weights %.4f ms\n", sum_cold);
  const double e2e = measure_network(net, mo).median_ms;
  std::printf(
      "sum alone %.4f ms, sum in-net %.4f ms, traced forward %.4f ms, measure_network "
      "%.4f ms (e2e / sum alone = %.3f)\n",
      sum_iso, sum_net, summarize_ms(whole).median_ms, e2e, e2e / sum_iso);
}
