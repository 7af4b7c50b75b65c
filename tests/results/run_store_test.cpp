// RunStore and resume: a run interrupted mid-generation and resumed from run.db ends with the
// same archive and front as an uninterrupted run with the same seed.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "predictors/accuracy_interval.h"
#include "results/front_json.h"
#include "results/run_store.h"
#include "search/algorithm_registry.h"
#include "search/search_runner.h"
#include "tests/search/toy_spaces.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

// Whether `a` is one of the archs FailingAccuracy cannot evaluate (about one in five, by a rule
// of the genes alone, so that every run fails on the same archs).
bool fails_to_evaluate(const Arch& a) {
  int h = 0;
  for (std::size_t i = 0; i < a.genes.size(); ++i) h += a.genes[i] * static_cast<int>(i + 1);
  return h % 5 == 0;
}

// The synthetic accuracy, failing on its `fail_at`-th batch (an interruption mid-generation),
// and, with `failures`, an EvaluationFailure for the archs of fails_to_evaluate (but the
// bounds pair, which the run needs).
class InterruptingAccuracy final : public AccuracyPredictor {
 public:
  InterruptingAccuracy(int fail_at, const SearchSpace* failures)
      : fail_at_(fail_at), failures_(failures) {}
  std::vector<double> predict(const std::vector<Arch>& archs) override {
    if (++calls_ == fail_at_) throw Error("evaluator interrupted");
    std::vector<double> out;
    for (const auto& a : archs) {
      if (failures_ && a != failures_->smallest() && a != failures_->largest() &&
          fails_to_evaluate(a))
        throw EvaluationFailure("trainer diverged (NaN loss)");
      out.push_back(test::synthetic_accuracy(a));
    }
    return out;
  }
  std::string source() const override { return "interrupting"; }

 private:
  int fail_at_;
  const SearchSpace* failures_;
  int calls_ = 0;
};

struct Outcome {
  SearchResult result;
  std::size_t stored = 0;
  std::vector<GenerationSummary> generations;
};

Outcome run_in(const std::string& db, const std::string& algorithm, int fail_at,
               bool failures = false) {
  static const auto space = test::make_synthetic_space();
  static const auto table = test::make_synthetic_table(*space);
  auto latency = std::make_shared<LatencyObjective>(*space, table);
  auto accuracy = std::make_shared<AccuracyObjective>(
      std::make_shared<InterruptingAccuracy>(fail_at, failures ? space.get() : nullptr));
  Problem p(*space, {latency, accuracy}, {Constraint{latency, 3.0}});
  AlgorithmSetup ao;
  ao.name = algorithm;
  ao.population = 20;
  ao.seed = 9;
  auto alg = make_algorithm(ao, p);
  RunStore store(db);
  store.bind(p);
  RunnerOptions opt;
  opt.max_evaluations = 300;
  opt.max_failures = 1000;
  Outcome o;
  o.result = SearchRunner(p, *alg, opt, &store).run();
  o.stored = store.evaluation_count();
  o.generations = store.generations();
  return o;
}

TEST(RunStore, ResumedRunEqualsUninterruptedRun) {
  for (const std::string alg : {"nsga2", "generative", "evolution", "random"}) {
    const std::string dir = test::make_temp_dir("hwnas-resume");
    const Outcome straight = run_in(dir + "/a.db", alg, -1);
    // Interrupted during generation 6's accuracy batch; generations 0-5 are in the database.
    EXPECT_THROW(run_in(dir + "/b.db", alg, 7), Error) << alg;
    {
      RunStore partial(dir + "/b.db");
      EXPECT_EQ(partial.generations().back().generation, 5) << alg;
    }
    const Outcome resumed = run_in(dir + "/b.db", alg, -1);
    EXPECT_TRUE(resumed.result.resumed) << alg;
    ASSERT_EQ(straight.result.archive.size(), resumed.result.archive.size()) << alg;
    for (std::size_t i = 0; i < straight.result.archive.size(); ++i) {
      EXPECT_EQ(straight.result.archive[i].arch, resumed.result.archive[i].arch) << alg << " " << i;
      EXPECT_EQ(straight.result.archive[i].objectives, resumed.result.archive[i].objectives) << alg;
    }
    EXPECT_EQ(straight.result.front, resumed.result.front) << alg;
    EXPECT_DOUBLE_EQ(straight.result.hypervolume, resumed.result.hypervolume) << alg;
    EXPECT_EQ(straight.stored, straight.result.archive.size()) << alg;
    EXPECT_EQ(resumed.stored, resumed.result.archive.size()) << alg;
    EXPECT_EQ(straight.generations.size(), resumed.generations.size()) << alg;
    EXPECT_DOUBLE_EQ(straight.generations.back().hypervolume, straight.result.hypervolume);
    std::filesystem::remove_all(dir);
  }
}

TEST(RunStore, FailedEvaluationsAreStoredRankLastAndResumeTheSame) {
  for (const std::string alg : {"nsga2", "generative", "evolution", "random"}) {
    const std::string dir = test::make_temp_dir("hwnas-failures");
    const Outcome straight = run_in(dir + "/a.db", alg, -1, /*failures=*/true);
    const auto& archive = straight.result.archive;
    std::size_t failed = 0;
    for (const auto& e : archive) {
      const bool should_fail = fails_to_evaluate(e.arch) && e.generation > 0;
      EXPECT_EQ(e.failed(), should_fail) << alg;
      failed += e.failed();
      if (e.failed()) {
        EXPECT_EQ(e.failure, "trainer diverged (NaN loss)");
        EXPECT_FALSE(e.feasible());
        EXPECT_TRUE(std::isnan(e.objectives[0]) && std::isnan(e.objectives[1]));
      } else {
        EXPECT_DOUBLE_EQ(e.objectives[1], test::synthetic_accuracy(e.arch)) << alg;
      }
    }
    EXPECT_GT(failed, 10u) << alg;  // the rule hits about one arch in five
    EXPECT_EQ(straight.result.failed, failed) << alg;
    ASSERT_FALSE(straight.result.front.empty()) << alg;
    for (std::size_t f : straight.result.front) EXPECT_FALSE(archive[f].failed()) << alg;
    // What run.db holds: the reason, null objectives, not feasible.
    const auto stored = RunStore(dir + "/a.db", /*create=*/false).evaluations();
    ASSERT_EQ(stored.size(), archive.size()) << alg;
    for (std::size_t i = 0; i < stored.size(); ++i) {
      EXPECT_EQ(stored[i].failure, archive[i].failure) << alg << " " << i;
      if (archive[i].failed()) {
        EXPECT_TRUE(stored[i].objectives["accuracy"].is_null());
        EXPECT_FALSE(stored[i].feasible);
      }
    }
    // Interrupted mid-run and resumed: the same archive, failures included, and the same front.
    EXPECT_THROW(run_in(dir + "/b.db", alg, 7, true), Error) << alg;
    const Outcome resumed = run_in(dir + "/b.db", alg, -1, true);
    EXPECT_TRUE(resumed.result.resumed) << alg;
    ASSERT_EQ(resumed.result.archive.size(), archive.size()) << alg;
    for (std::size_t i = 0; i < archive.size(); ++i) {
      EXPECT_EQ(resumed.result.archive[i].arch, archive[i].arch) << alg << " " << i;
      EXPECT_EQ(resumed.result.archive[i].failure, archive[i].failure) << alg << " " << i;
    }
    EXPECT_EQ(resumed.result.front, straight.result.front) << alg;
    EXPECT_DOUBLE_EQ(resumed.result.hypervolume, straight.result.hypervolume) << alg;
    std::filesystem::remove_all(dir);
  }
}

TEST(RunStore, AFailingBoundsPairIsAnErrorNotAFailedEvaluation) {
  // The hypervolume's bounds need both corner archs' values: without them the run cannot start.
  class Broken final : public AccuracyPredictor {
   public:
    std::vector<double> predict(const std::vector<Arch>&) override {
      throw EvaluationFailure("CUDA out of memory");
    }
    std::string source() const override { return "broken"; }
  };
  const auto space = test::make_synthetic_space();
  auto latency = std::make_shared<LatencyObjective>(*space, test::make_synthetic_table(*space));
  Problem p(*space, {latency, std::make_shared<AccuracyObjective>(std::make_shared<Broken>())});
  auto alg = make_algorithm(AlgorithmSetup{"nsga2", 8, 1, {}}, p);
  RunnerOptions opt;
  opt.max_evaluations = 20;
  const std::string msg = test::error_of([&] { SearchRunner(p, *alg, opt).run(); });
  EXPECT_NE(msg.find("evaluating the smallest failed: CUDA out of memory"), std::string::npos)
      << msg;
}

TEST(RunStore, AWrongCountOnTheOneAtATimeRetryIsAnError) {
  // A batch failure is retried one arch at a time; an answer of the wrong length there is a broken
  // objective (as on a batch), not an arch left without values and without a failure. A plain
  // Objective, since AccuracyObjective checks its predictor's count itself.
  class TwoForOne final : public Objective {
   public:
    std::string name() const override { return "two-for-one"; }
    std::string unit() const override { return "%"; }
    Sense sense() const override { return Sense::maximize; }
    std::vector<double> evaluate(const std::vector<Arch>& archs) override {
      if (archs.size() > 1) throw EvaluationFailure("one arch of the batch diverged");
      return {0.5, 0.5};
    }
  };
  const auto space = test::make_synthetic_space();
  auto latency = std::make_shared<LatencyObjective>(*space, test::make_synthetic_table(*space));
  Problem p(*space, {latency, std::make_shared<TwoForOne>()});
  const std::string msg = test::error_of([&] {
    p.evaluate({space->smallest(), space->largest()}, 0);
  });
  EXPECT_NE(msg.find("'two-for-one' returned 2 values for 1 architecture"), std::string::npos)
      << msg;
}

TEST(RunStore, ConfigRoundTripAndFrontJson) {
  const std::string dir = test::make_temp_dir("hwnas-store");
  {
    RunStore store(dir + "/run.db");
    EXPECT_FALSE(store.config().has_value());
    store.set_config({{"space", "synthetic"}, {"seed", 3}});
  }
  RunStore store(dir + "/run.db");
  ASSERT_TRUE(store.config().has_value());
  EXPECT_EQ((*store.config())["seed"], 3);

  const Outcome o = run_in(dir + "/x.db", "nsga2", -1);
  auto space = test::make_synthetic_space();
  auto table = test::make_synthetic_table(*space);
  auto latency = std::make_shared<LatencyObjective>(*space, table);
  auto accuracy =
      std::make_shared<AccuracyObjective>(std::make_shared<InterruptingAccuracy>(-1, nullptr));
  Problem p(*space, {latency, accuracy}, {Constraint{latency, 3.0}});
  const auto j = front_to_json(p, o.result, RunInfo{"nsga2", 9, "toy"}, {{"note", "x"}});
  write_json_atomic(dir + "/front.json", j);
  EXPECT_FALSE(std::filesystem::exists(dir + "/front.json.tmp"));
  EXPECT_EQ(j["objectives"][0]["name"], "latency");
  EXPECT_EQ(j["objectives"][1]["sense"], "max");
  EXPECT_EQ(j["members"].size(), o.result.front.size());
  for (const auto& m : j["members"]) {
    EXPECT_LE(m["objectives"]["latency"].get<double>(), 3.0);
    EXPECT_TRUE(m["feasible"].get<bool>());
  }
  EXPECT_EQ(j["note"], "x");
  std::filesystem::remove_all(dir);
}

TEST(RunStore, ConfirmedFrontValuesReplaceTheStoredEstimates) {
  const std::string dir = test::make_temp_dir("hwnas-confirm");
  static const auto space = test::make_synthetic_space();
  static const auto table = test::make_synthetic_table(*space);
  auto latency = std::make_shared<LatencyObjective>(*space, table);
  auto source = std::make_shared<test::OptimisticFirstLook>();
  Problem p(*space, {latency, std::make_shared<AccuracyObjective>(source)},
            {Constraint{latency, 3.0}});
  AlgorithmSetup ao;
  ao.name = "nsga2";
  ao.population = 20;
  ao.seed = 9;
  auto alg = make_algorithm(ao, p);
  RunStore store(dir + "/run.db");
  store.bind(p);
  RunnerOptions opt;
  opt.max_evaluations = 200;
  opt.provisional = [&](const Arch& a) { return source->estimated(a); };
  const SearchResult r = SearchRunner(p, *alg, opt, &store).run();
  ASSERT_GT(r.confirmed, 0u);
  // run.db holds each arch once, with the values the run ended with (confirmed ones included).
  const auto cp = store.load_checkpoint();
  ASSERT_TRUE(cp.has_value());
  ASSERT_EQ(cp->evaluations.size(), r.archive.size());
  for (std::size_t i = 0; i < r.archive.size(); ++i) {
    EXPECT_EQ(cp->evaluations[i].arch, r.archive[i].arch);
    EXPECT_EQ(cp->evaluations[i].objectives, r.archive[i].objectives);
  }
  // Replacing an arch the store never saw is an error, and nothing of the batch is kept.
  GenerationRecord bad;
  bad.generation = r.generations;
  Evaluation ghost = r.archive.front();
  ghost.arch.genes.assign(ghost.arch.genes.size(), 99);
  bad.replaced_evaluations = {ghost};
  EXPECT_THROW(store.save_generation(bad), Error);
  std::filesystem::remove_all(dir);
}

// The synthetic accuracy as if measured on 1,000 held-out images.
class CountedAccuracy final : public AccuracyPredictor {
 public:
  std::vector<double> predict(const std::vector<Arch>& archs) override {
    std::vector<double> out;
    for (const auto& a : archs) out.push_back(test::synthetic_accuracy(a));
    return out;
  }
  std::size_t samples(const Arch&) override { return 1000; }
  std::string source() const override { return "counted"; }
};

TEST(RunStore, SampleCountsAndIntervalsSurviveTheDatabase) {
  const std::string dir = test::make_temp_dir("hwnas-samples");
  static const auto space = test::make_synthetic_space();
  static const auto table = test::make_synthetic_table(*space);
  auto latency = std::make_shared<LatencyObjective>(*space, table);
  Problem p(*space,
            {latency, std::make_shared<AccuracyObjective>(std::make_shared<CountedAccuracy>())});
  AlgorithmSetup ao;
  ao.name = "nsga2";
  ao.population = 20;
  ao.seed = 4;
  auto alg = make_algorithm(ao, p);
  const std::string db = dir + "/run.db";
  SearchResult r;
  {
    RunStore store(db);
    store.bind(p);
    RunnerOptions opt;
    opt.max_evaluations = 60;
    r = SearchRunner(p, *alg, opt, &store).run();
    const auto cp = store.load_checkpoint();
    ASSERT_TRUE(cp.has_value());
    for (const auto& e : cp->evaluations) EXPECT_EQ(e.samples, (std::vector<std::size_t>{0, 1000}));
    for (const auto& e : store.evaluations())
      EXPECT_EQ(e.samples, nlohmann::json({{"accuracy", 1000}}));
  }
  // front.json: each accuracy with its count and a 95 % Wilson interval around it (latency has
  // none); at n = 1000 and p near 0.8 the half-width is about 2.5 points.
  const auto j = front_to_json(p, r, RunInfo{"nsga2", 4, "toy"}, {});
  ASSERT_FALSE(j["members"].empty());
  for (const auto& m : j["members"]) {
    const double a = m["objectives"]["accuracy"];
    ASSERT_TRUE(m.contains("intervals")) << m.dump();
    EXPECT_EQ(m["samples"]["accuracy"], 1000);
    EXPECT_FALSE(m["intervals"].contains("latency"));
    const double lo = m["intervals"]["accuracy"][0], hi = m["intervals"]["accuracy"][1];
    EXPECT_LT(lo, a);
    EXPECT_GT(hi, a);
    EXPECT_NEAR((hi - lo) / 2, kZ95 * std::sqrt(a * (1 - a) / 1000), 1e-3);
  }
  // A version-1 file (before samples were stored) reads without counts, and opening it to
  // resume upgrades it in place.
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
    // SQL readers find each accuracy's interval beside its count.
    sqlite3_stmt* q = nullptr;
    ASSERT_EQ(
        sqlite3_prepare_v2(raw, "SELECT objectives, intervals FROM evaluations", -1, &q, nullptr),
        SQLITE_OK);
    int rows = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
      const auto obj =
          nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
      const auto ci =
          nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(q, 1)));
      const AccuracyInterval want = wilson_interval(obj["accuracy"].get<double>(), 1000);
      EXPECT_DOUBLE_EQ(ci["accuracy"][0].get<double>(), want.lo);
      EXPECT_DOUBLE_EQ(ci["accuracy"][1].get<double>(), want.hi);
      ++rows;
    }
    sqlite3_finalize(q);
    EXPECT_EQ(rows, static_cast<int>(r.archive.size()));
    ASSERT_EQ(sqlite3_exec(raw,
                           "ALTER TABLE evaluations DROP COLUMN samples; ALTER TABLE evaluations "
                           "DROP COLUMN intervals; ALTER TABLE evaluations DROP COLUMN failure; "
                           "UPDATE meta SET value = '1' WHERE key = 'schema_version'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
  }
  {
    const RunStore old(db, /*create=*/false);
    const auto evals = old.evaluations();
    ASSERT_EQ(evals.size(), r.archive.size());
    EXPECT_TRUE(evals.front().samples.empty());
  }
  RunStore upgraded(db);
  upgraded.bind(p);
  const auto cp = upgraded.load_checkpoint();
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->evaluations.front().samples, (std::vector<std::size_t>{0, 0}));
  std::filesystem::remove_all(dir);
}

TEST(RunStore, UnwritableLocationIsAClearError) {
  EXPECT_THROW(RunStore("/nonexistent-dir/run.db"), Error);
}

}  // namespace
}  // namespace hwnas
