// Search throughput on the EfficientFormer space. The LUT is LutLatencyPredictor::from_rows over
// every block of the space at 224 (synthetic medians: profiling is excluded); the surrogate is
// fitted on 500 archs of a known function.
//  - search_evaluate/threads:T: an iteration evaluates the same 20,000 sampled archs (decode +
//    LUT latency + surrogate accuracy) in a TBB arena of T threads; counter evaluations_per_s.
//  - search_nsga2/store:S/threads:T: one 20,000-evaluation NSGA-II search (population 100) per
//    repetition, its seed the repetition's index (0, 1, ...), without (S=0) or with (S=1) the
//    SQLite run store checkpointing every generation; the time is the search's wall time
//    (SearchRunner::run, the store opened before); counters evaluated (archive size) and front.
//
// Parameters: --threads=LIST (default 2).
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <tbb/task_arena.h>

#include "bench/bench_common.h"
#include "predictors/lut_latency_predictor.h"
#include "predictors/surrogate_accuracy.h"
#include "results/run_store.h"
#include "search/nsga2.h"
#include "search/search_runner.h"
#include "spaces/registry.h"

namespace hwnas::bench {
namespace {

constexpr int kResolution = 224;
constexpr int kTrain = 500;
constexpr int kBatch = 20000;
constexpr std::size_t kEvaluations = 20000;
constexpr int kPopulation = 100;

double known_accuracy(const Arch& a) {
  double s = 0.5;
  for (std::size_t i = 0; i < a.genes.size(); ++i) s += 0.01 * std::log1p(a.genes[i]) / (1.0 + i);
  return s;
}

// The objectives and the evaluated batch, built once.
struct Setup {
  const SearchSpace& space = get_space("efficientformer");
  std::shared_ptr<LatencyObjective> latency;
  std::shared_ptr<AccuracyObjective> accuracy;
  std::vector<Arch> batch;

  Setup() {
    std::vector<LatencyRow> rows;
    for (const auto& b : space.enumerate_blocks(kResolution)) {
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
    for (int i = 0; i < kTrain; ++i) {
      train.push_back(space.sample(rng));
      acc.push_back(known_accuracy(train.back()));
    }
    auto surrogate =
        std::make_shared<SurrogateAccuracy>(space, train, acc, SurrogateParams{}, "bench");
    latency = std::make_shared<LatencyObjective>(space, lut);
    accuracy = std::make_shared<AccuracyObjective>(surrogate);
    for (int i = 0; i < kBatch; ++i) batch.push_back(space.sample(rng));
  }
};

Setup& setup() {
  static Setup s;
  return s;
}

void evaluate(benchmark::State& state) {
  Setup& s = setup();
  Problem p(s.space, {s.latency, s.accuracy});
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  double sink = 0;
  const auto once = [&] {
    arena.execute([&] { sink += p.evaluate(s.batch, 1).back().objectives[0]; });
  };
  warm_up(2, once);
  for (auto _ : state) {
    once();
    benchmark::DoNotOptimize(sink);
  }
  state.counters["evaluations_per_s"] =
      benchmark::Counter(kBatch, benchmark::Counter::kIsIterationInvariantRate);
}

void nsga2(benchmark::State& state) {
  const bool with_store = state.range(0) != 0;
  const int threads = static_cast<int>(state.range(1));
  static std::map<std::pair<bool, int>, std::uint64_t> runs;  // the seed of the next search
  Setup& s = setup();
  for (auto _ : state) {
    const std::uint64_t seed = runs[{with_store, threads}]++;
    Problem p(s.space, {s.latency, s.accuracy});
    Nsga2 algorithm(s.space, Nsga2Params{.population = kPopulation}, seed);
    RunnerOptions opt;
    opt.max_evaluations = kEvaluations;
    opt.threads = threads;
    const std::string dir = "/tmp/hwnas-bench-search-" + std::to_string(seed);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::unique_ptr<RunStore> store;
    if (with_store) {
      store = std::make_unique<RunStore>(dir + "/run.db");
      store->bind(p);
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = SearchRunner(p, algorithm, opt, store.get()).run();
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    state.counters["evaluated"] = static_cast<double>(r.archive.size());
    state.counters["front"] = static_cast<double>(r.front.size());
    store.reset();
    std::filesystem::remove_all(dir);
  }
}

void register_benchmarks(Params& params) {
  const auto threads = params.ints("threads", {2});
  timed(benchmark::RegisterBenchmark("search_evaluate", evaluate),
        Timed{.repetitions = 5, .min_time_s = 0.5})
      ->ArgsProduct({threads})
      ->ArgNames({"threads"});
  auto* b = study(benchmark::RegisterBenchmark("search_nsga2", nsga2))
                ->ArgsProduct({{0, 1}, threads})
                ->ArgNames({"store", "threads"});
  if (!flag_given("benchmark_repetitions")) b->Repetitions(5);
  benchmark::AddCustomContext("space", "efficientformer");
  benchmark::AddCustomContext("resolution", std::to_string(kResolution));
  benchmark::AddCustomContext(
      "table",
      "synthetic, " +
          std::to_string(get_space("efficientformer").enumerate_blocks(kResolution).size()) +
          " blocks: median 0.01 ms + 2e-9 ms per MAC");
  benchmark::AddCustomContext("surrogate", "fitted on " + std::to_string(kTrain) + " archs");
  benchmark::AddCustomContext("evaluate_batch", std::to_string(kBatch));
  benchmark::AddCustomContext("nsga2", "population " + std::to_string(kPopulation) + ", " +
                                           std::to_string(kEvaluations) + " evaluations");
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  return hwnas::bench::run(argc, argv,
                           {"search",
                            "  --threads=LIST  evaluation threads (default 2)",
                            {},
                            hwnas::bench::register_benchmarks});
}
