// The block-timing probe (profilers/block_timing_choice.h) repeated on one space, to see how often
// it keeps each row variant on this host and which level of the networks' end-to-end windows
// makes that choice steady (bench/README.md, "The block-timing probe in noise").
// A study (bench_common.h):
//  block_timing_probe/<space>/trials:N/int8:P/threads:T: each trial a whole probe (fresh
//  backends, the profiler's timing and 3 windows, the space's default resolution, the profile's
//  probe networks: the largest and 4 drawn with seed 0). Counters: hot_kept (trials whose probe
//  kept hot rows), within_noise (trials whose choice was within the networks' window spread,
//  BlockTimingChoice::within_noise), hot_ratio and cold_ratio (the median over trials of each
//  probe's median ratio), and, side by side from the same measurements, hot_by_lower_quartile:
//  the trials that would keep hot rows were each network judged against the lower quartile of
//  its window medians instead of its pooled median (tried 2026-12-07, not adopted: it leans to
//  hot rows rather than removing noise). The benchmark's time is the median probe's wall time.
// Parameters: --space=NAME (repeated; default efficientformer-fmnist), --trials=LIST (default
// 8), --threads=LIST (default 2), --int8=0|1 (default 0), --dump=FILE (appends one JSON line
// per trial: every block's and network's window medians, to replay other rules offline).
#include <algorithm>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_common.h"
#include "profilers/block_timing_choice.h"
#include "profilers/local_backend.h"
#include "profilers/profiler.h"
#include "spaces/registry.h"

namespace hwnas::bench {
namespace {

nlohmann::json windows_json(const TimingStats& s) {
  return {{"median", s.median_ms}, {"wmed", s.window_medians_ms}, {"wmin", s.window_min_ms}};
}

nlohmann::json trial_json(const std::string& space, const std::vector<Network>& nets,
                          const BlockTimingChoice& c) {
  nlohmann::json j = c.to_json();
  j["space"] = space;
  j["time"] = static_cast<long long>(std::time(nullptr));
  for (std::size_t k = 0; k < c.blocks.size(); ++k)
    j["blocks"].push_back({{"key", c.blocks[k].key()},
                           {"hot", windows_json(c.hot_stats[k])},
                           {"cold", windows_json(c.cold_stats[k])}});
  for (std::size_t n = 0; n < nets.size(); ++n) {
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& b : nets[n].blocks) keys.push_back(b.key());
    j["nets"].push_back({{"keys", keys}, {"e2e", windows_json(c.e2e_stats[n])}});
  }
  return j;
}

double median(std::vector<double> v) { return summarize_ms(std::move(v)).median_ms; }

void probe(benchmark::State& state, const std::string& space_name, const std::string& dump) {
  const SearchSpace& space = get_space(space_name);
  const int trials = static_cast<int>(state.range(0));
  const std::string precision = state.range(1) ? "int8" : "fp32";
  const int threads = static_cast<int>(state.range(2));
  LocalBackend::require_precision(precision);
  const auto nets = block_timing_probe_networks(space, default_resolution(space), 4, 0);
  for (auto _ : state) {
    int hot_kept = 0, within_noise = 0, hot_quartile = 0;
    std::vector<double> hot_ratio, cold_ratio, seconds;
    for (int t = 0; t < trials; ++t) {
      LocalBackend hot(threads, 1, 0, BlockTiming::hot, precision);
      LocalBackend cold(threads, 1, 0, BlockTiming::cold_weights, precision);
      const BlockTimingChoice c = choose_block_timing(nets, hot, cold, default_profile_timing(), 3);
      // The same sums over each network's lower quartile of window medians.
      std::vector<double> by_quartile_hot, by_quartile_cold;
      for (std::size_t n = 0; n < nets.size(); ++n) {
        std::vector<double> w = c.e2e_stats[n].window_medians_ms;
        std::sort(w.begin(), w.end());
        const double level = w.empty() ? c.e2e_ms[n] : w[(w.size() - 1) / 4];
        by_quartile_hot.push_back(c.hot_ratio[n] * c.e2e_ms[n] / level);
        by_quartile_cold.push_back(c.cold_ratio[n] * c.e2e_ms[n] / level);
      }
      hot_kept += c.chosen == BlockTiming::hot;
      within_noise += c.within_noise();
      hot_quartile += block_sum_error(by_quartile_hot) < block_sum_error(by_quartile_cold);
      hot_ratio.push_back(median(c.hot_ratio));
      cold_ratio.push_back(median(c.cold_ratio));
      seconds.push_back(c.seconds);
      if (!dump.empty())
        std::ofstream(dump, std::ios::app) << trial_json(space_name, nets, c) << "\n";
    }
    state.counters["hot_kept"] = hot_kept;
    state.counters["within_noise"] = within_noise;
    state.counters["hot_by_lower_quartile"] = hot_quartile;
    state.counters["hot_ratio"] = median(hot_ratio);
    state.counters["cold_ratio"] = median(cold_ratio);
    state.SetIterationTime(median(seconds));
  }
}

void register_benchmarks(Params& params) {
  const auto spaces = params.strings("space", {"efficientformer-fmnist"});
  const auto dump = params.strings("dump", {""}).front();
  const std::vector<std::vector<std::int64_t>> args = {
      params.ints("trials", {8}), params.ints("int8", {0}), params.ints("threads", {2})};
  for (const auto& s : spaces) {
    get_space(s);  // an unknown space fails here
    const std::string name = "block_timing_probe/" + s;
    study(benchmark::RegisterBenchmark(name.c_str(), probe, s, dump))
        ->ArgsProduct(args)
        ->ArgNames({"trials", "int8", "threads"});
  }
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  return hwnas::bench::run(
      argc, argv,
      {"block_timing_probe",
       "  --space=NAME      a search space (repeated; default efficientformer-fmnist)\n"
       "  --trials=LIST     whole probes per benchmark (default 8)\n"
       "  --threads=LIST    engine threads (default 2, the profiler's)\n"
       "  --int8=0|1        time the int8 device's rows and networks (default 0)\n"
       "  --dump=FILE       append every trial's windows as a JSON line",
       {},
       hwnas::bench::register_benchmarks});
}
