// FLOPs-window evolution (ElasticViT's subnet search): every evaluated arch lies in the window,
// it beats random sampling of the window at the same budget, and a resumed run ends as an
// uninterrupted one.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "core/error.h"
#include "search/flops_window_evolution.h"
#include "search/search_runner.h"
#include "spaces/elasticvit_space.h"
#include "spaces/registry.h"
#include "tests/search/toy_spaces.h"

namespace hwnas {
namespace {

// The synthetic space enumerated once, with a window holding about 1 % of it, placed at the
// median MACs (computed from the data: hwnas MACs / 1e6, the convention on spaces without
// reference FLOPs).
struct WindowProblem {
  std::unique_ptr<test::ToySpace> space;
  double lo = 0, width = 0;
  double best_in_window = -1e9;  // exact, by enumeration
  std::size_t in_window = 0;
};

const WindowProblem& window_problem() {
  static WindowProblem w = [] {
    WindowProblem x;
    x.space = test::make_synthetic_space();
    const auto all = x.space->enumerate();
    std::vector<double> mflops;
    for (const auto& a : all)
      mflops.push_back(static_cast<double>(x.space->decode(a).macs()) / 1e6);
    std::vector<double> sorted = mflops;
    std::sort(sorted.begin(), sorted.end());
    x.lo = sorted[sorted.size() / 4];
    x.width = sorted[sorted.size() / 4 + sorted.size() / 50] - x.lo;
    for (std::size_t i = 0; i < all.size(); ++i)
      if (mflops[i] >= x.lo && mflops[i] <= x.lo + x.width) {
        ++x.in_window;
        x.best_in_window = std::max(x.best_in_window, test::synthetic_accuracy(all[i]));
      }
    return x;
  }();
  return w;
}

Problem accuracy_problem(const SearchSpace& space) {
  return Problem(space, {std::make_shared<MacsObjective>(space, Sense::minimize),
                         std::make_shared<AccuracyObjective>(
                             std::make_shared<test::FunctionAccuracy>(test::synthetic_accuracy))});
}

FlopsWindowParams window_params(std::size_t population) {
  const WindowProblem& w = window_problem();
  FlopsWindowParams p;
  p.window_mflops = w.lo;
  p.window_width_mflops = w.width;
  p.population = population;
  return p;
}

RunnerOptions runner_options(std::size_t budget) {
  RunnerOptions o;
  o.max_evaluations = budget;
  o.threads = 2;
  o.archive_bounds = false;
  return o;
}

// Best accuracy found in the window (the algorithm's only candidates are in it; checked below).
double best_accuracy(const SearchResult& r) {
  double best = -1e9;
  for (const auto& e : r.archive) best = std::max(best, e.objectives[1]);
  return best;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST(FlopsWindowEvolution, EveryEvaluatedArchLiesInTheWindow) {
  const WindowProblem& w = window_problem();
  ASSERT_GT(w.in_window, 500u);
  Problem p = accuracy_problem(*w.space);
  FlopsWindowEvolution alg(*w.space, p, window_params(20), 3);
  const SearchResult r = SearchRunner(p, alg, runner_options(200)).run();
  // Generation 0 (20 window samples) and bred generations; the run may stop early once no
  // child of the survivors is new and inside the window.
  ASSERT_GT(r.archive.size(), 40u);
  for (const auto& e : r.archive) {
    // Independent of the algorithm's metric: the objective's own MACs.
    const double mflops = e.objectives[0] / 1e6;
    EXPECT_GE(mflops, w.lo);
    EXPECT_LE(mflops, w.lo + w.width);
  }
  const auto res = alg.result().at("flops_window");
  EXPECT_EQ(res.at("metric"), "macs");
  EXPECT_EQ(res.at("accepted").get<std::size_t>(), r.archive.size());
  EXPECT_GT(res.at("rejected").get<std::size_t>(), 0u);
  EXPECT_LE(alg.survivors().size(), 10u);  // top_k = population / 2
}

TEST(FlopsWindowEvolution, ElasticVitWindowUsesTheReferenceFlops) {
  const auto& space = dynamic_cast<const ElasticVitSpace&>(get_space("elasticvit"));
  EXPECT_EQ(window_metric_name(space), "reference_mflops");
  Problem p(space, {std::make_shared<MacsObjective>(space, Sense::maximize),
                    std::make_shared<ParamsObjective>(space)});
  FlopsWindowParams fp;
  fp.window_mflops = 300;  // a level of ElasticViT's complexity-aware sampling
  fp.population = 16;
  FlopsWindowEvolution alg(space, p, fp, 5);
  const SearchResult r = SearchRunner(p, alg, runner_options(60)).run();
  ASSERT_EQ(r.archive.size(), 60u);
  for (const auto& e : r.archive) {
    const double f = space.reference_mflops(e.arch);
    EXPECT_GE(f, 300.0);
    EXPECT_LE(f, 320.0);
  }
}

TEST(FlopsWindowEvolution, EmptyWindowIsAClearError) {
  const WindowProblem& w = window_problem();
  Problem p = accuracy_problem(*w.space);
  FlopsWindowParams fp = window_params(4);
  fp.window_mflops = 1e9;  // beyond the largest arch
  fp.max_draws = 200;
  FlopsWindowEvolution alg(*w.space, p, fp, 1);
  try {
    alg.ask(4, nullptr);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--flops-window"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("200 draws"), std::string::npos) << e.what();
  }
  fp.window_mflops = 0;
  EXPECT_THROW(FlopsWindowEvolution(*w.space, p, fp, 1), Error);
}

// Seven seeds each, medians compared: evolution (population 30, top 15, 7 + 7 children per
// generation) against uniform sampling of the same window (population = budget: generation 0
// only), both with 150 evaluations.
TEST(FlopsWindowEvolution, BeatsRandomWindowSamplingAtTheSameBudget) {
  const WindowProblem& w = window_problem();
  Problem p = accuracy_problem(*w.space);
  const std::size_t budget = 150;
  std::vector<double> evo, rnd;
  for (std::uint64_t seed = 1; seed <= 7; ++seed) {
    FlopsWindowEvolution e(*w.space, p, window_params(30), seed);
    evo.push_back(w.best_in_window -
                  best_accuracy(SearchRunner(p, e, runner_options(budget)).run()));
    FlopsWindowEvolution r(*w.space, p, window_params(budget), seed);
    rnd.push_back(w.best_in_window -
                  best_accuracy(SearchRunner(p, r, runner_options(budget)).run()));
  }
  const double evo_regret = median(evo), rnd_regret = median(rnd);
  RecordProperty("median_regret_evolution", std::to_string(evo_regret));
  RecordProperty("median_regret_random", std::to_string(rnd_regret));
  EXPECT_GE(evo_regret, 0.0);
  EXPECT_LT(evo_regret, rnd_regret) << "evolution " << evo_regret << " vs random " << rnd_regret;
}

// Keeps the states in memory; throws after `fail_after` generations to simulate a killed run.
class MemorySink final : public CheckpointSink {
 public:
  int fail_after = -1;
  std::optional<Checkpoint> load_checkpoint() override { return saved_; }
  void save_generation(const GenerationRecord& r) override {
    if (fail_after >= 0 && r.generation > fail_after) throw Error("killed");
    Checkpoint c = saved_.value_or(Checkpoint{});
    c.evaluations.insert(c.evaluations.end(), r.new_evaluations.begin(), r.new_evaluations.end());
    c.algorithm_state = r.algorithm_state;
    c.runner_state = r.runner_state;
    c.generation = r.generation;
    saved_ = c;
  }

 private:
  std::optional<Checkpoint> saved_;
};

TEST(FlopsWindowEvolution, ResumedRunEndsAsTheUninterruptedOne) {
  const WindowProblem& w = window_problem();
  Problem p = accuracy_problem(*w.space);
  FlopsWindowEvolution whole(*w.space, p, window_params(20), 9);
  const SearchResult a = SearchRunner(p, whole, runner_options(160)).run();

  MemorySink sink;
  sink.fail_after = 4;
  FlopsWindowEvolution first(*w.space, p, window_params(20), 9);
  EXPECT_THROW(SearchRunner(p, first, runner_options(160), &sink).run(), Error);
  sink.fail_after = -1;
  FlopsWindowEvolution second(*w.space, p, window_params(20), 12345);  // the seed is restored
  const SearchResult b = SearchRunner(p, second, runner_options(160), &sink).run();
  EXPECT_TRUE(b.resumed);
  ASSERT_EQ(a.archive.size(), b.archive.size());
  for (std::size_t i = 0; i < a.archive.size(); ++i)
    EXPECT_EQ(a.archive[i].arch, b.archive[i].arch) << i;
  EXPECT_EQ(whole.save_state(), second.save_state());
}

}  // namespace
}  // namespace hwnas
