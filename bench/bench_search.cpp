// Search throughput: candidate evaluations per second (decode + LUT latency + surrogate
// accuracy) and the wall time of a 20,000-evaluation NSGA-II search of the EfficientFormer
// space. The LUT is LutLatencyPredictor::from_rows over every block of the space (synthetic
// medians: profiling is excluded); the surrogate is fitted on 500 archs of a known function.
// Usage: hwnas_bench_search [threads=2]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <tbb/task_arena.h>

#include "evaluators/timing.h"
#include "predictors/lut_latency_predictor.h"
#include "predictors/surrogate_accuracy.h"
#include "results/run_store.h"
#include "search/nsga2.h"
#include "search/search_runner.h"
#include "spaces/registry.h"

using namespace hwnas;

namespace {

double known_accuracy(const Arch& a) {
  double s = 0.5;
  for (std::size_t i = 0; i < a.genes.size(); ++i) s += 0.01 * std::log1p(a.genes[i]) / (1.0 + i);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const SearchSpace& space = get_space("efficientformer");
  std::vector<LatencyRow> rows;
  for (const auto& b : space.enumerate_blocks(224)) {
    LatencyRow r;
    r.key = b.key();
    r.stats.median_ms = 0.01 + static_cast<double>(block_cost(b).macs) * 2e-9;
    rows.push_back(r);
  }
  auto lut = std::shared_ptr<const LatencyPredictor>(
      LutLatencyPredictor::from_rows(rows, 0.05, std::nullopt, "synthetic table"));
  Rng rng(1);
  std::vector<Arch> train;
  std::vector<double> acc;
  for (int i = 0; i < 500; ++i) {
    train.push_back(space.sample(rng));
    acc.push_back(known_accuracy(train.back()));
  }
  auto surrogate =
      std::make_shared<SurrogateAccuracy>(space, train, acc, SurrogateParams{}, "bench");
  std::printf("table: %zu blocks; surrogate: %s\n", rows.size(), surrogate->source().c_str());

  auto latency = std::make_shared<LatencyObjective>(space, lut);
  auto accuracy = std::make_shared<AccuracyObjective>(surrogate);

  // 1. Candidate evaluations per second.
  {
    Problem p(space, {latency, accuracy});
    std::vector<Arch> batch;
    for (int i = 0; i < 20000; ++i) batch.push_back(space.sample(rng));
    tbb::task_arena arena(threads);
    double sink = 0;
    const TimingStats t = time_calls(
        [&] { arena.execute([&] { sink += p.evaluate(batch, 1).back().objectives[0]; }); },
        TimingConfig{.warmup = 2, .min_repeats = 10, .min_time_ms = 500});
    std::printf(
        "evaluate (decode + LUT + surrogate), %d threads: median %.2f ms per 20k archs -> "
        "%.0f evaluations/s (p10 %.2f, p90 %.2f ms, n=%d)%s\n",
        threads, t.median_ms, 2e4 / (t.median_ms / 1e3), t.p10_ms, t.p90_ms, t.repeats,
        sink > 0 ? "" : " ");
  }

  // 2. A 20,000-evaluation NSGA-II search, without and with the SQLite run store.
  for (bool with_store : {false, true}) {
    std::vector<double> seconds;
    std::size_t evaluated = 0, front = 0;
    for (int rep = 0; rep < 5; ++rep) {
      Problem p(space, {latency, accuracy});
      Nsga2 nsga2(space, Nsga2Params{.population = 100}, static_cast<std::uint64_t>(rep));
      RunnerOptions opt;
      opt.max_evaluations = 20000;
      opt.threads = threads;
      const std::string dir = "/tmp/hwnas-bench-search-" + std::to_string(rep);
      std::filesystem::remove_all(dir);
      std::filesystem::create_directories(dir);
      std::unique_ptr<RunStore> store;
      if (with_store) {
        store = std::make_unique<RunStore>(dir + "/run.db");
        store->bind(p);
      }
      const auto t0 = std::chrono::steady_clock::now();
      const auto r = SearchRunner(p, nsga2, opt, store.get()).run();
      seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * 1e3);
      evaluated = r.archive.size();
      front = r.front.size();
      store.reset();
      std::filesystem::remove_all(dir);
    }
    const TimingStats t = summarize_ms(seconds);
    std::printf(
        "NSGA-II search, population 100, %zu evaluations, %d threads, %s: median %.0f ms "
        "(min %.0f, p90 %.0f, n=%d), front %zu\n",
        evaluated, threads, with_store ? "run.db checkpoint every generation" : "no store",
        t.median_ms, t.min_ms, t.p90_ms, t.repeats, front);
  }
}
