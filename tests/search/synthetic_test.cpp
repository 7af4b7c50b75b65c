// Every algorithm on a synthetic space small enough to enumerate (96,768 archs): fronts are
// compared with the exact front found by exhaustive enumeration.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <set>

#include "search/algorithm.h"
#include "search/algorithm_registry.h"
#include "search/regularized_evolution.h"
#include "search/search_runner.h"
#include "tests/search/toy_spaces.h"

namespace hwnas {
namespace {

struct Exact {
  std::unique_ptr<test::ToySpace> space;
  std::shared_ptr<test::MapLatencyPredictor> table;
  double latency_max = 0;
  std::vector<Point> front;  // minimisation (latency, -accuracy), feasible archs only
  double best_feasible_accuracy = 0;
  Normalisation norm;  // the runner's default: smallest() and largest()
  std::size_t size = 0;
};

// The exact constrained front, by enumeration and a sort-and-sweep (independent of the
// library's Pareto code): ascending latency, keep an arch if it beats every faster one.
const Exact& exact() {
  static Exact e = [] {
    Exact x;
    x.space = test::make_synthetic_space();
    x.table = test::make_synthetic_table(*x.space);
    const auto all = x.space->enumerate();
    x.size = all.size();
    auto lat = [&](const Arch& a) { return x.table->predict_ms(x.space->decode(a)); };
    const double lo = lat(x.space->smallest()), hi = lat(x.space->largest());
    x.latency_max = lo + 0.4 * (hi - lo);
    std::vector<std::pair<double, double>> pts;  // (latency, accuracy) of feasible archs
    for (const auto& a : all) {
      const double l = lat(a);
      if (l <= x.latency_max) pts.emplace_back(l, test::synthetic_accuracy(a));
    }
    std::sort(pts.begin(), pts.end(), [](auto a, auto b) {
      return a.first < b.first || (a.first == b.first && a.second > b.second);
    });
    double best = -1e9;
    for (const auto& [l, acc] : pts)
      if (acc > best) {
        best = acc;
        x.front.push_back({l, -acc});
      }
    x.best_feasible_accuracy = best;
    const double a_small = test::synthetic_accuracy(x.space->smallest());
    const double a_large = test::synthetic_accuracy(x.space->largest());
    x.norm = {{lo, -a_large}, {hi, -a_small}};
    return x;
  }();
  return e;
}

struct SearchRun {
  SearchResult result;
  std::vector<Point> front;  // fitness of the feasible front members
  nlohmann::json extra;
};

SearchRun run_search(const std::string& algorithm, std::uint64_t seed, std::size_t budget,
                     int threads = 2, bool autoregressive = false) {
  const Exact& x = exact();
  auto latency = std::make_shared<LatencyObjective>(*x.space, x.table);
  auto accuracy = std::make_shared<AccuracyObjective>(
      std::make_shared<test::FunctionAccuracy>(test::synthetic_accuracy));
  Problem p(*x.space, {latency, accuracy}, {Constraint{latency, x.latency_max}});
  AlgorithmSetup ao;
  ao.name = algorithm;
  ao.population = 30;
  ao.seed = seed;
  if (algorithm == "generative") ao.params["autoregressive"] = autoregressive;
  auto alg = make_algorithm(ao, p);
  RunnerOptions opt;
  opt.max_evaluations = budget;
  opt.threads = threads;
  SearchRun r;
  r.result = SearchRunner(p, *alg, opt).run();
  for (auto i : r.result.front)
    if (r.result.archive[i].feasible()) r.front.push_back(r.result.archive[i].fitness);
  r.extra = alg->result();
  return r;
}

double exact_hv() { return hypervolume_normalised(exact().front, exact().norm); }

TEST(SyntheticSpace, ExactFrontIsNonTrivial) {
  EXPECT_EQ(exact().size, 96768u);
  EXPECT_GT(exact().front.size(), 20u);
}

TEST(SyntheticSpace, EveryAlgorithmFrontAgainstExactFront) {
  const Exact& x = exact();
  const double best = exact_hv();
  struct Case {
    std::string name;
    bool autoregressive;
    double min_hv_ratio;
  };
  for (const Case& c :
       {Case{"random", false, 0.5}, Case{"nsga2", false, 0.9}, Case{"generative", false, 0.9},
        Case{"generative", true, 0.9}, Case{"evolution", false, 0.0}}) {
    const SearchRun r = run_search(c.name, 11, 1500, 2, c.autoregressive);
    const double hv = hypervolume_normalised(r.front, x.norm);
    std::printf("%-11s%s HV %.4f of exact %.4f (%.1f %%), IGD %.4f, front %zu (exact %zu)\n",
                c.name.c_str(), c.autoregressive ? "(AR)" : "    ", hv, best, 100 * hv / best,
                igd(r.front, x.front), r.front.size(), x.front.size());
    EXPECT_LE(hv, best + 1e-12) << c.name;
    EXPECT_GE(hv, c.min_hv_ratio * best) << c.name;
    EXPECT_NEAR(r.result.hypervolume, hv, 1e-12) << c.name;
    // Every member's values are the true ones, and the front is exactly the non-dominated
    // subset of the run's own archive (brute-force reference).
    std::vector<Point> feasible;
    std::vector<Arch> archs;
    for (const auto& e : r.result.archive)
      if (e.feasible()) {
        feasible.push_back(e.fitness);
        archs.push_back(e.arch);
      }
    std::set<std::vector<int>> brute;
    for (auto i : pareto_front_indices(feasible)) brute.insert(archs[i].genes);
    std::set<std::vector<int>> got;
    for (auto i : r.result.front) {
      const auto& e = r.result.archive[i];
      EXPECT_TRUE(e.feasible());
      EXPECT_DOUBLE_EQ(e.objectives[0], x.table->predict_ms(x.space->decode(e.arch)));
      EXPECT_DOUBLE_EQ(e.objectives[1], test::synthetic_accuracy(e.arch));
      got.insert(e.arch.genes);
    }
    EXPECT_EQ(got, brute) << c.name;
    if (c.name == "evolution") {
      double best_acc = -1;
      for (const auto& e : r.result.archive)
        if (e.feasible()) best_acc = std::max(best_acc, e.objectives[1]);
      std::printf("evolution: best feasible accuracy %.5f, exact %.5f\n", best_acc,
                  x.best_feasible_accuracy);
      EXPECT_GE(best_acc, x.best_feasible_accuracy - 0.005);
    }
  }
}

TEST(SyntheticSpace, SlimmingEndsFeasibleNearTheExactBest) {
  const Exact& x = exact();
  const SearchRun r = run_search("slimming", 1, 0);
  const auto& traj = r.extra["trajectory"];
  ASSERT_GT(traj.size(), 1u);
  const double final_latency = traj.back()["latency_ms"].get<double>();
  const double final_accuracy = traj.back()["quality"].get<double>();
  std::printf(
      "slimming: %zu steps, final latency %.4f ms (target %.4f), accuracy %.5f (exact best "
      "feasible %.5f)\n",
      traj.size() - 1, final_latency, x.latency_max, final_accuracy, x.best_feasible_accuracy);
  EXPECT_LE(final_latency, x.latency_max);
  EXPECT_LE(final_accuracy, x.best_feasible_accuracy + 1e-12);
  // Greedy is not optimal, but on this smooth accuracy it ends close to the exact optimum.
  EXPECT_GE(final_accuracy, x.best_feasible_accuracy - 0.02);
  for (std::size_t i = 1; i < traj.size(); ++i)
    EXPECT_LT(traj[i]["latency_ms"].get<double>(), traj[i - 1]["latency_ms"].get<double>());
}

TEST(SyntheticSpace, Nsga2AndGenerativeBeatRandomOnTenOfTenSeeds) {
  const Exact& x = exact();
  // Budget: 800 evaluations each (population 30, ~26 generations), 0.8 % of the space.
  constexpr std::size_t kBudget = 800;
  int nsga2_wins = 0, generative_wins = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const double hv_random =
        hypervolume_normalised(run_search("random", seed, kBudget).front, x.norm);
    const double hv_nsga2 =
        hypervolume_normalised(run_search("nsga2", seed, kBudget).front, x.norm);
    const double hv_gen =
        hypervolume_normalised(run_search("generative", seed, kBudget).front, x.norm);
    std::printf("seed %2llu: random %.4f nsga2 %.4f generative %.4f\n",
                static_cast<unsigned long long>(seed), hv_random, hv_nsga2, hv_gen);
    nsga2_wins += hv_nsga2 > hv_random;
    generative_wins += hv_gen > hv_random;
  }
  EXPECT_EQ(nsga2_wins, 10);
  EXPECT_EQ(generative_wins, 10);
}

TEST(SyntheticSpace, SameSeedSameFrontAnyThreadCount) {
  for (const std::string alg : {"nsga2", "generative", "evolution", "random"}) {
    const auto a = run_search(alg, 5, 500, 1);
    const auto b = run_search(alg, 5, 500, 4);
    const auto c = run_search(alg, 5, 500, 2);
    ASSERT_EQ(a.result.archive.size(), b.result.archive.size()) << alg;
    for (std::size_t i = 0; i < a.result.archive.size(); ++i) {
      EXPECT_EQ(a.result.archive[i].arch, b.result.archive[i].arch) << alg;
      EXPECT_EQ(a.result.archive[i].objectives, b.result.archive[i].objectives) << alg;
      EXPECT_EQ(a.result.archive[i].arch, c.result.archive[i].arch) << alg;
    }
    EXPECT_EQ(a.result.front, b.result.front) << alg;
    EXPECT_EQ(a.result.front, c.result.front) << alg;
    // A different seed explores differently.
    const auto d = run_search(alg, 6, 500, 2);
    EXPECT_NE(a.result.archive[5].arch, d.result.archive[5].arch) << alg;
  }
}

// Records every arch an objective is asked about, to check the runner's cache.
class CountingObjective final : public Objective {
 public:
  std::vector<Arch> seen;
  std::string name() const override { return "count"; }
  std::string unit() const override { return "1"; }
  Sense sense() const override { return Sense::minimize; }
  std::vector<double> evaluate(const std::vector<Arch>& archs) override {
    seen.insert(seen.end(), archs.begin(), archs.end());
    std::vector<double> out;
    for (const auto& a : archs) out.push_back(a.genes[0] + a.genes[1]);
    return out;
  }
};

TEST(SyntheticSpace, NoArchEvaluatedTwiceAndBudgetHeld) {
  auto space = test::make_slim_space();  // 30 valid archs: algorithms must run into repeats
  auto counter = std::make_shared<CountingObjective>();
  Problem p(*space, {counter, std::make_shared<MacsObjective>(*space, Sense::maximize)});
  for (const std::string alg : {"random", "nsga2", "evolution", "generative"}) {
    counter->seen.clear();
    AlgorithmSetup ao;
    ao.name = alg;
    ao.population = 8;
    ao.seed = 3;
    auto a = make_algorithm(ao, p);
    RunnerOptions opt;
    opt.max_evaluations = 25;
    opt.max_stalled_generations = 5;
    const auto r = SearchRunner(p, *a, opt).run();
    std::set<std::vector<int>> unique;
    for (const auto& s : counter->seen) unique.insert(s.genes);
    EXPECT_EQ(unique.size(), counter->seen.size()) << alg;
    EXPECT_EQ(counter->seen.size(), r.archive.size()) << alg;
    EXPECT_LE(r.archive.size(), 25u) << alg;
  }
  // With an unreachable budget the run stops once the space is exhausted.
  AlgorithmSetup ao;
  ao.name = "random";
  ao.population = 8;
  auto a = make_algorithm(ao, p);
  RunnerOptions opt;
  opt.max_evaluations = 1000;
  opt.max_stalled_generations = 3;
  const auto r = SearchRunner(p, *a, opt).run();
  EXPECT_EQ(r.archive.size(), space->enumerate().size());
  EXPECT_NE(r.stop_reason.find("no new architecture"), std::string::npos) << r.stop_reason;
}

// NSGA-II with population 30 on `p`, and runner options for `evaluations` archs on 2 threads.
std::unique_ptr<Algorithm> nsga2_30(const Problem& p, std::uint64_t seed) {
  AlgorithmSetup ao;
  ao.name = "nsga2";
  ao.population = 30;
  ao.seed = seed;
  return make_algorithm(ao, p);
}

RunnerOptions two_threads(std::size_t evaluations) {
  RunnerOptions opt;
  opt.max_evaluations = evaluations;
  opt.threads = 2;
  return opt;
}

TEST(SyntheticSpace, ProvisionalFrontMembersAreConfirmedByReEvaluation) {
  const Exact& x = exact();
  auto latency = std::make_shared<LatencyObjective>(*x.space, x.table);
  auto source = std::make_shared<test::OptimisticFirstLook>();
  auto accuracy = std::make_shared<AccuracyObjective>(source);
  Problem p(*x.space, {latency, accuracy}, {Constraint{latency, x.latency_max}});
  auto alg = nsga2_30(p, 5);
  RunnerOptions opt = two_threads(600);
  opt.provisional = [&](const Arch& a) { return source->estimated(a); };
  const SearchResult r = SearchRunner(p, *alg, opt).run();
  // The inflated estimates win front places, so the run must have confirmed some.
  EXPECT_GT(r.confirmed, 0u);
  // Every front member now holds its true accuracy, and the front is the non-dominated subset
  // of the final archive (brute force).
  std::vector<Point> feasible;
  std::vector<std::vector<int>> genes;
  for (const auto& e : r.archive)
    if (e.feasible()) feasible.push_back(e.fitness), genes.push_back(e.arch.genes);
  std::set<std::vector<int>> brute, got;
  for (auto i : pareto_front_indices(feasible)) brute.insert(genes[i]);
  for (auto i : r.front) {
    const auto& e = r.archive[i];
    EXPECT_FALSE(source->estimated(e.arch));
    EXPECT_NEAR(e.objectives[1], test::synthetic_accuracy(e.arch), 1e-12);
    if (e.feasible()) got.insert(e.arch.genes);
  }
  EXPECT_EQ(got, brute);
}

// A screening-size accuracy: the true value plus a fixed per-arch error of up to +-0.04 (the
// spread of 1,000-image estimates), "measured" on 100 images.
class NoisyAccuracy final : public AccuracyPredictor {
 public:
  std::vector<double> predict(const std::vector<Arch>& archs) override {
    std::vector<double> out;
    for (const auto& a : archs) out.push_back(test::synthetic_accuracy(a) + error(a));
    return out;
  }
  std::size_t samples(const Arch&) override { return 100; }
  std::string source() const override { return "noisy"; }
  static double error(const Arch& a) {
    std::size_t h = 0;
    for (int g : a.genes) h = h * 31 + static_cast<std::size_t>(g);
    return (static_cast<double>(h % 81) - 40.0) / 1000.0;
  }
};

TEST(SyntheticSpace, FinalRescoreDrawsTheFrontFromTheRescoredCandidatesOnly) {
  const Exact& x = exact();
  auto latency = std::make_shared<LatencyObjective>(*x.space, x.table);
  auto accuracy = std::make_shared<AccuracyObjective>(std::make_shared<NoisyAccuracy>());
  Problem p(*x.space, {latency, accuracy});
  auto alg = nsga2_30(p, 9);
  RunnerOptions opt = two_threads(300);
  std::vector<Evaluation> asked;
  opt.rescore = [&](const std::vector<Evaluation>& old) {
    asked = old;
    std::vector<Evaluation> out;
    for (const auto& e : old) {
      Evaluation r = p.make_evaluation(e.arch, {e.objectives[0], test::synthetic_accuracy(e.arch)},
                                       {}, e.generation);
      r.samples = {0, 10000};
      out.push_back(r);
    }
    return out;
  };
  const SearchResult r = SearchRunner(p, *alg, opt).run();
  // The candidates were the first two non-dominated ranks of the noisy archive (brute force).
  std::set<std::vector<int>> rank1, rank12, got;
  std::vector<Point> noisy;
  for (const auto& e : r.archive)
    noisy.push_back(
        {e.objectives[0], -(test::synthetic_accuracy(e.arch) + NoisyAccuracy::error(e.arch))});
  std::vector<bool> in1(noisy.size(), false);
  for (auto i : pareto_front_indices(noisy)) in1[i] = true, rank1.insert(r.archive[i].arch.genes);
  std::vector<Point> rest;
  std::vector<std::size_t> rest_index;
  for (std::size_t i = 0; i < noisy.size(); ++i)
    if (!in1[i]) rest.push_back(noisy[i]), rest_index.push_back(i);
  rank12 = rank1;
  for (auto i : pareto_front_indices(rest)) rank12.insert(r.archive[rest_index[i]].arch.genes);
  for (const auto& e : asked) got.insert(e.arch.genes);
  EXPECT_EQ(got, rank12);
  EXPECT_EQ(r.rescored, rank12.size());
  // Every front member holds its re-scored value, and the front is the Pareto front of the
  // re-scored archs alone.
  std::vector<Point> rescored;
  std::vector<std::vector<int>> genes;
  for (const auto& e : r.archive)
    if (e.samples.size() == 2 && e.samples[1] == 10000)
      rescored.push_back(e.fitness), genes.push_back(e.arch.genes);
  EXPECT_EQ(rescored.size(), rank12.size());
  std::set<std::vector<int>> brute, front;
  for (auto i : pareto_front_indices(rescored)) brute.insert(genes[i]);
  for (auto i : r.front) {
    EXPECT_NEAR(r.archive[i].objectives[1], test::synthetic_accuracy(r.archive[i].arch), 1e-12);
    front.insert(r.archive[i].arch.genes);
  }
  EXPECT_EQ(front, brute);
}

}  // namespace
}  // namespace hwnas
