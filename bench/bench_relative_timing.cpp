// Whether the host's noise is a common slowdown: two networks timed back to back in many short
// rounds. If their raw medians swing together, the ratio A/B stays put while each one moves, and
// timing relative to a reference workload timed in the same window would cancel the noise.
// A study (bench_common.h):
//  relative_timing/<A>/vs/<B>/threads:T/rounds:R/window_ms:W: R rounds, each timing A then B
//  with time_calls (evaluators/runtime/timing.h: 2 warm-up calls, >= 3 calls and >= W ms). For each
//  series S of A, B, A/B (the per-round ratio) and their p10 counterparts (A_p10, B_p10,
//  A/B_p10): counters S_median (ms, or the ratio), S_within2 and S_within5 (share of rounds
//  within 2 % / 5 % of the series' median) and S_max_over_min, the series named a, b, ratio,
//  a_p10, b_p10, ratio_p10. The benchmark's time is A's median.
//
// Parameters: --a=[SPACE:]ARCH and --b=[SPACE:]ARCH (repeated in pairs; default l1 and l3 of
// efficientformer), --threads=LIST (default 2), --rounds=LIST (default 40), --window_ms=LIST
// (default 60).
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "evaluators/engine/model.h"
#include "evaluators/runtime/thread_scope.h"
#include "evaluators/runtime/timing.h"
#include "spaces/registry.h"

namespace hwnas::bench {
namespace {

void relative(benchmark::State& state, const std::string& spec_a, const std::string& spec_b) {
  const int threads = static_cast<int>(state.range(0));
  const int rounds = static_cast<int>(state.range(1));
  const double window_ms = static_cast<double>(state.range(2));
  const Network na = network_of(spec_a), nb = network_of(spec_b);
  ThreadScope scope(threads);
  Model ma = Model::random(na, 1), mb = Model::random(nb, 2);
  Tensor ia(1, na.input.h, na.input.w, na.input.c), ib(1, nb.input.h, nb.input.w, nb.input.c);
  Tensor la, lb;
  const TimingConfig cfg{.warmup = 2, .min_repeats = 3, .min_time_ms = window_ms};
  for (auto _ : state) {
    std::vector<double> a, b, a10, b10, ratio, ratio10;
    for (int r = 0; r < rounds; ++r) {
      const TimingStats sa = time_calls([&] { ma.forward(ia, la); }, cfg);
      const TimingStats sb = time_calls([&] { mb.forward(ib, lb); }, cfg);
      a.push_back(sa.median_ms);
      b.push_back(sb.median_ms);
      a10.push_back(sa.p10_ms);
      b10.push_back(sb.p10_ms);
      ratio.push_back(sa.median_ms / sb.median_ms);
      ratio10.push_back(sa.p10_ms / sb.p10_ms);
    }
    report_series(state, "a", a);
    report_series(state, "b", b);
    report_series(state, "ratio", ratio);
    report_series(state, "a_p10", a10);
    report_series(state, "b_p10", b10);
    report_series(state, "ratio_p10", ratio10);
    std::sort(a.begin(), a.end());
    state.SetIterationTime(a[a.size() / 2] / 1e3);
  }
}

void register_benchmarks(Params& params) {
  const auto as = params.strings("a", {"l1"});
  const auto bs = params.strings("b", {"l3"});
  if (as.size() != bs.size())
    throw std::invalid_argument("--a and --b must be given the same number of times");
  const std::vector<std::vector<std::int64_t>> args = {
      params.ints("threads", {2}), params.ints("rounds", {40}), params.ints("window_ms", {60})};
  for (std::size_t i = 0; i < as.size(); ++i) {
    network_of(as[i]);  // a bad arch fails here
    network_of(bs[i]);
    const std::string name = "relative_timing/" + as[i] + "/vs/" + bs[i];
    study(benchmark::RegisterBenchmark(name.c_str(), relative, as[i], bs[i]))
        ->ArgsProduct(args)
        ->ArgNames({"threads", "rounds", "window_ms"});
  }
  benchmark::AddCustomContext("batch", "1");
  benchmark::AddCustomContext("window", "2 warm-up calls, >= 3 calls and >= window_ms");
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  return hwnas::bench::run(
      argc, argv,
      {"relative_timing",
       "  --a=[SPACE:]ARCH, --b=[SPACE:]ARCH  the pair timed in turn (repeated in pairs;\n"
       "                                      default l1 and l3 of efficientformer)\n"
       "  --threads=LIST                      engine threads (default 2)\n"
       "  --rounds=LIST                       rounds (default 40)\n"
       "  --window_ms=LIST                    each network's window per round (default 60)",
       {},
       hwnas::bench::register_benchmarks});
}
