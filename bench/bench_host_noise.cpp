// Which resource a shared host's noise comes through (issue 15): two loops that touch no memory
// and read sweeps over working sets of several sizes, timed in turn in many short rounds. If the
// latency-bound loop repeats, the timing thread keeps its CPU time and clock (no steal, no
// frequency change). If the port-bound loop or the sweeps do not repeat, a neighbour shares the
// core's execution units or caches (an SMT sibling) or, from the size at which repeatability
// falls, a shared cache level or memory bandwidth. Sizes are given, not read from the platform,
// because a VM's reported caches are not trusted (profilers/README.md). A study (bench_common.h):
//  host_noise/rounds:R/window_ms:W: R rounds; each times every kernel with time_calls
//  (evaluators/runtime/timing.h: 2 warm-up calls, >= 3 calls and >= W ms). For each kernel's
//  series of window medians, report_series's counters: S_median (ms per call), S_within2,
//  S_within5, S_max_over_min, with S "chain8" (8 independent chains of 2^20 multiply-adds on
//  registers: latency-bound), "chain64" (64 chains of 2^17: bound by the FMA units) or "kibN"
//  (sum of a buffer of N KiB, swept as often as it takes to read 4 MiB). The benchmark's time is
//  chain8's median.
//
//  load_path_switching/calls:N: N back-to-back 16 KiB sweeps, each timed alone, for how long
//  the load path stays at one speed (load_path_switching below).
//
// Parameters: --rounds=LIST (default 40), --window_ms=LIST (default 20), --kib=LIST (working
// sets; default 16,256,8192,262144), --calls=N (default 100000), --arch=[SPACE:]ARCH (repeated;
// default none: also time that network each round, host_noise/<arch>, with its series "net" and
// net_corr_S, the correlation over rounds of its window medians with series S's). Run it pinned
// (`taskset -c 0`), as the tables are timed.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "evaluators/engine/model.h"
#include "evaluators/runtime/thread_scope.h"
#include "evaluators/runtime/timing.h"
#include "predictors/latency_validation.h"

namespace hwnas::bench {
namespace {

// `Chains` independent multiply-add chains on registers, no memory traffic. With 8 (two AVX2
// vectors) each iteration waits on the last one's latency and leaves the FMA units mostly idle;
// with 64 the units are the bound, so only the second slows down when another thread (an SMT
// sibling of another tenant) shares them.
template <int Chains>
double multiply_add_chains(double seed, int iterations) {
  double x[Chains];
  for (int i = 0; i < Chains; ++i) x[i] = seed + i;
  for (int it = 0; it < iterations; ++it)
    for (double& v : x) v = v * 0.999999 + 1e-7;
  return std::accumulate(x, x + Chains, 0.0);
}

std::uint64_t sweep(const std::vector<std::uint64_t>& buf, int times) {
  std::uint64_t s = 0;
  for (int t = 0; t < times; ++t)
    for (std::uint64_t v : buf) s += v;
  return s;
}

// The network's window medians divided by the canary's to the power b, with b the least-squares
// slope of log network time on log canary time over the rounds: how repeatable the network
// would be if the canary, timed beside it, calibrated each window. Counters as report_series.
void report_adjusted(benchmark::State& state, const std::string& name,
                     const std::vector<double>& net_ms, const std::vector<double>& canary_ms) {
  std::vector<double> ln, lc;
  for (std::size_t i = 0; i < net_ms.size(); ++i) {
    ln.push_back(std::log(net_ms[i]));
    lc.push_back(std::log(canary_ms[i]));
  }
  const double n = static_cast<double>(ln.size());
  const double mn = std::accumulate(ln.begin(), ln.end(), 0.0) / n;
  const double mc = std::accumulate(lc.begin(), lc.end(), 0.0) / n;
  double cov = 0, var = 0;
  for (std::size_t i = 0; i < ln.size(); ++i) {
    cov += (ln[i] - mn) * (lc[i] - mc);
    var += (lc[i] - mc) * (lc[i] - mc);
  }
  const double b = var > 0 ? cov / var : 0;
  std::vector<double> adjusted;
  for (std::size_t i = 0; i < ln.size(); ++i)
    adjusted.push_back(std::exp(ln[i] - b * (lc[i] - mc)));
  report_series(state, name, adjusted);
  state.counters[name + "_slope"] = b;
}

// With --arch, a network is timed in each round too (one engine thread, batch 1), and
// net_corr_S is the correlation over rounds of its window medians with series S's: a series
// that follows the network could calibrate or screen its windows.
void host_noise(benchmark::State& state, std::vector<std::int64_t> kib, std::string arch) {
  const int rounds = static_cast<int>(state.range(0));
  const TimingConfig cfg{
      .warmup = 2, .min_repeats = 3, .min_time_ms = static_cast<double>(state.range(1))};
  std::vector<std::vector<std::uint64_t>> buffers;
  for (std::int64_t k : kib) {
    buffers.emplace_back(static_cast<std::size_t>(k) * 1024 / sizeof(std::uint64_t));
    std::iota(buffers.back().begin(), buffers.back().end(), std::uint64_t{1});
  }
  const bool with_net = !arch.empty();
  const Network net = with_net ? network_of(arch) : Network{};
  ThreadScope scope(1);
  std::optional<Model> model;
  if (with_net) model = Model::random(net, 1);
  Tensor input = with_net ? Tensor(1, net.input.h, net.input.w, net.input.c) : Tensor{};
  Tensor logits;
  for (auto _ : state) {
    std::vector<double> latency_bound, port_bound, net_ms;
    std::vector<std::vector<double>> sweeps(kib.size());
    double sink = 0;
    for (int r = 0; r < rounds; ++r) {
      const auto seed = static_cast<double>(r);
      if (with_net)
        net_ms.push_back(time_calls([&] { model->forward(input, logits); }, cfg).median_ms);
      latency_bound.push_back(
          time_calls([&] { sink += multiply_add_chains<8>(seed, 1 << 20); }, cfg).median_ms);
      port_bound.push_back(
          time_calls([&] { sink += multiply_add_chains<64>(seed, 1 << 17); }, cfg).median_ms);
      for (std::size_t i = 0; i < kib.size(); ++i) {
        const int times = static_cast<int>(std::max<std::int64_t>(1, 4096 / kib[i]));
        sweeps[i].push_back(
            time_calls([&] { sink += static_cast<double>(sweep(buffers[i], times)); }, cfg)
                .median_ms);
      }
    }
    benchmark::DoNotOptimize(sink);
    report_series(state, "chain8", latency_bound);
    report_series(state, "chain64", port_bound);
    for (std::size_t i = 0; i < kib.size(); ++i)
      report_series(state, "kib" + std::to_string(kib[i]), sweeps[i]);
    if (with_net) {
      report_series(state, "net", net_ms);
      state.counters["net_corr_chain8"] = pearson_r(net_ms, latency_bound);
      state.counters["net_corr_chain64"] = pearson_r(net_ms, port_bound);
      for (std::size_t i = 0; i < kib.size(); ++i) {
        const std::string name = "kib" + std::to_string(kib[i]);
        state.counters["net_corr_" + name] = pearson_r(net_ms, sweeps[i]);
        report_adjusted(state, "net_adj_" + name, net_ms, sweeps[i]);
      }
    }
    std::sort(latency_bound.begin(), latency_bound.end());
    state.SetIterationTime(latency_bound[latency_bound.size() / 2] / 1e3);
  }
}

// How fast the load path switches between speeds: back-to-back sweeps of 16 KiB (64 times, about
// 10 us each), each timed alone. A call within 1.4x of the fastest is "fast"; counters: the fast
// share, the median length (ms) of a fast and of a slow stretch, the longest slow stretch, and
// the slow calls' median over the fast calls'. Stretches much shorter than a timing window mean
// no per-window guard can tell a disturbed window from a clean one.
void load_path_switching(benchmark::State& state) {
  const auto calls = static_cast<std::size_t>(state.range(0));
  std::vector<std::uint64_t> buf(16 * 1024 / sizeof(std::uint64_t));
  std::iota(buf.begin(), buf.end(), std::uint64_t{1});
  for (auto _ : state) {
    std::vector<double> start_ms(calls), ms(calls);
    std::uint64_t sink = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < calls; ++i) {
      const auto a = std::chrono::steady_clock::now();
      sink += sweep(buf, 64);
      const auto b = std::chrono::steady_clock::now();
      start_ms[i] = std::chrono::duration<double, std::milli>(a - t0).count();
      ms[i] = std::chrono::duration<double, std::milli>(b - a).count();
    }
    benchmark::DoNotOptimize(sink);
    const double fastest = *std::min_element(ms.begin(), ms.end());
    std::vector<double> fast_runs, slow_runs, fast_ms, slow_ms;
    bool fast = ms[0] < 1.4 * fastest;
    double run_start = start_ms[0];
    for (std::size_t i = 0; i < calls; ++i) {
      const bool f = ms[i] < 1.4 * fastest;
      (f ? fast_ms : slow_ms).push_back(ms[i]);
      if (f != fast || i + 1 == calls) {
        (fast ? fast_runs : slow_runs).push_back(start_ms[i] - run_start);
        fast = f;
        run_start = start_ms[i];
      }
    }
    auto median = [](std::vector<double> v) {
      if (v.empty()) return 0.0;
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
      return v[v.size() / 2];
    };
    state.counters["fast_share"] = static_cast<double>(fast_ms.size()) / static_cast<double>(calls);
    state.counters["fast_run_ms"] = median(fast_runs);
    state.counters["slow_run_ms"] = median(slow_runs);
    state.counters["longest_slow_run_ms"] =
        slow_runs.empty() ? 0.0 : *std::max_element(slow_runs.begin(), slow_runs.end());
    state.counters["slow_over_fast"] = slow_ms.empty() ? 1.0 : median(slow_ms) / median(fast_ms);
    state.SetIterationTime(start_ms.back() / 1e3);
  }
}

void register_benchmarks(Params& params) {
  const auto kib = params.ints("kib", {16, 256, 8192, 262144});
  for (std::int64_t k : kib)
    if (k < 1) throw std::invalid_argument("--kib: a working set must be >= 1 KiB");
  const auto rounds = params.ints("rounds", {40});
  const auto window_ms = params.ints("window_ms", {20});
  const auto calls = params.ints("calls", {100000});
  for (const auto* list : {&rounds, &window_ms, &calls})
    for (std::int64_t v : *list)
      if (v < 1) throw std::invalid_argument("--rounds, --window_ms and --calls must be >= 1");
  for (const std::string& arch : params.strings("arch", {""})) {
    if (!arch.empty()) network_of(arch);  // a bad arch fails here
    const std::string name = arch.empty() ? "host_noise" : "host_noise/" + arch;
    study(benchmark::RegisterBenchmark(name.c_str(), host_noise, kib, arch))
        ->ArgsProduct({rounds, window_ms})
        ->ArgNames({"rounds", "window_ms"});
  }
  study(benchmark::RegisterBenchmark("load_path_switching", load_path_switching))
      ->Arg(calls.front())
      ->ArgName("calls");
  benchmark::AddCustomContext("window", "2 warm-up calls, >= 3 calls and >= window_ms");
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  return hwnas::bench::run(argc, argv,
                           {"host_noise",
                            "  --rounds=LIST     rounds (default 40)\n"
                            "  --window_ms=LIST  each kernel's window per round (default 20)\n"
                            "  --kib=LIST        working sets swept, KiB (default "
                            "16,256,8192,262144)\n"
                            "  --calls=N         timed 16 KiB sweeps of load_path_switching "
                            "(default 100000)\n"
                            "  --arch=[SPACE:]ARCH  a network timed each round too, one thread "
                            "(repeated; default none)",
                            {},
                            hwnas::bench::register_benchmarks});
}
