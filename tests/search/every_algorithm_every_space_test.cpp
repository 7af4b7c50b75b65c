// Every search algorithm on every registered search space, on a small budget, with latency from
// a fake-device lookup table that is filled as blocks are met (FillingLutPredictor over the
// deterministic FakeBackend). Checks that each run finishes, that every evaluated arch is valid
// for its space and that the returned front is non-dominated.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <tuple>

#include "predictors/filling_lut_predictor.h"
#include "profilers/fake_backend.h"
#include "search/algorithm.h"
#include "search/algorithm_registry.h"
#include "search/flops_window_evolution.h"
#include "search/search_runner.h"
#include "spaces/registry.h"

namespace hwnas {
namespace {

// Dominance written out here, independently of search/pareto.h (minimisation).
bool dominates(const Point& a, const Point& b) {
  bool strictly = false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (a[k] > b[k]) return false;
    if (a[k] < b[k]) strictly = true;
  }
  return strictly;
}

// A fake-device table with no rows that measures blocks on first use (in memory).
std::shared_ptr<FillingLutPredictor> fake_table() {
  auto fake = std::make_shared<FakeBackend>();
  BlockFiller filler = [fake](const std::vector<BlockSpec>& blocks) {
    std::vector<LatencyRow> rows;
    const auto stats = fake->measure_blocks(blocks, TimingConfig{});
    for (std::size_t i = 0; i < blocks.size(); ++i) rows.push_back({blocks[i].key(), stats[i], ""});
    return rows;
  };
  return std::make_shared<FillingLutPredictor>(
      LutLatencyPredictor::from_rows({}, 0.05, std::nullopt, "fake"), filler);
}

using Combination = std::tuple<std::string, std::string>;  // (algorithm, space)

class EveryAlgorithmEverySpace : public ::testing::TestWithParam<Combination> {};

TEST_P(EveryAlgorithmEverySpace, FinishesWithValidArchsAndANonDominatedFront) {
  const auto& [algorithm, space_name] = GetParam();
  const SearchSpace& space = get_space(space_name);
  auto table = fake_table();
  auto latency = std::make_shared<LatencyObjective>(space, table);
  // MACs maximised stand in for accuracy (the CLI's default without an accuracy source).
  auto macs = std::make_shared<MacsObjective>(space, Sense::maximize);
  const double lo = table->predict_ms(space.decode(space.smallest()));
  const double hi = table->predict_ms(space.decode(space.largest()));
  Problem problem(space, {latency, macs}, {Constraint{latency, lo + 0.5 * (hi - lo)}});

  AlgorithmSetup ao;
  ao.name = algorithm;
  ao.population = 8;
  ao.seed = 11;
  // The window around a sampled arch's FLOPs (so it is never empty), 20 % wide.
  Rng rng(5);
  const double f = window_mflops(space, space.sample(rng));
  const double window = 0.9 * f, width = 0.2 * f;
  if (algorithm == "flops-window-evolution")
    ao.params = {{"flops_window", window}, {"flops_window_width", width}};
  auto alg = make_algorithm(ao, problem);
  RunnerOptions ro;
  ro.max_evaluations = 40;
  ro.threads = 2;
  ro.archive_bounds = algorithm != "flops-window-evolution";
  const SearchResult r = SearchRunner(problem, *alg, ro).run();

  EXPECT_FALSE(r.stop_reason.empty());
  ASSERT_FALSE(r.archive.empty());
  EXPECT_LE(r.archive.size(), 40u);
  EXPECT_GT(table->report().rows, 0u);
  for (const auto& e : r.archive) {
    EXPECT_EQ(e.arch.space, space.name());
    EXPECT_NO_THROW(space.validate(e.arch)) << space.to_json(e.arch).dump();
    ASSERT_EQ(e.fitness.size(), 2u);
  }
  ASSERT_FALSE(r.front.empty());
  const bool feasible_front = r.archive[r.front.front()].feasible();
  for (std::size_t i : r.front) {
    EXPECT_EQ(r.archive[i].feasible(), feasible_front);
    // No evaluated arch of the same feasibility dominates a front member.
    // (EXPECT_* expands to an if/else, so the if needs its braces.)
    for (const auto& e : r.archive) {
      if (e.feasible() == feasible_front && feasible_front) {
        EXPECT_FALSE(dominates(e.fitness, r.archive[i].fitness))
            << space.to_json(e.arch).dump() << " dominates "
            << space.to_json(r.archive[i].arch).dump();
      }
    }
  }
  if (algorithm == "flops-window-evolution")
    for (const auto& e : r.archive) {
      const double m = window_mflops(space, e.arch);
      EXPECT_GE(m, window);
      EXPECT_LE(m, window + width);
    }
}

std::string combination_name(const ::testing::TestParamInfo<Combination>& info) {
  std::string n = std::get<0>(info.param) + "_on_" + std::get<1>(info.param);
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(AllCombinations, EveryAlgorithmEverySpace,
                         ::testing::Combine(::testing::ValuesIn(algorithm_names()),
                                            ::testing::ValuesIn(space_names())),
                         combination_name);

TEST(EveryAlgorithmEverySpaceList, CoversTheFourSpacesAndSixAlgorithms) {
  const auto spaces = space_names();
  for (const char* s : {"efficientformer", "efficientformer-fmnist", "elasticvit", "turbovit"})
    EXPECT_NE(std::find(spaces.begin(), spaces.end(), s), spaces.end()) << s;
  const auto& algs = algorithm_names();
  for (const char* a :
       {"random", "nsga2", "evolution", "generative", "slimming", "flops-window-evolution"})
    EXPECT_NE(std::find(algs.begin(), algs.end(), a), algs.end()) << a;
}

}  // namespace
}  // namespace hwnas
