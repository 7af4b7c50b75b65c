// Unit checks of algorithm mechanics: aging removes the oldest, the generator's CEM update and
// entropy floor, state round trips.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "search/arch_generator.h"
#include "search/generative_search.h"
#include "search/nsga2.h"
#include "search/regularized_evolution.h"
#include "tests/search/toy_spaces.h"

namespace hwnas {
namespace {

Evaluation eval_of(const Arch& a, double f0, double f1, double violation = 0.0) {
  Evaluation e;
  e.arch = a;
  e.objectives = {f0, -f1};
  e.fitness = {f0, f1};
  e.violation = violation;
  return e;
}

TEST(RegularizedEvolution, AgingRemovesTheOldestNotTheWorst) {
  auto space = test::make_slim_space();
  Problem p(*space, {std::make_shared<MacsObjective>(*space, Sense::minimize),
                     std::make_shared<ParamsObjective>(*space)});
  RegularizedEvolution evo(*space, p,
                           EvolutionParams{.population = 4, .sample_size = 2, .batch = 2}, 1);
  const auto all = space->enumerate();
  // Member 0 is by far the best on the target objective; it must still die first.
  std::vector<Evaluation> first;
  for (int i = 0; i < 4; ++i)
    first.push_back(eval_of(all[static_cast<std::size_t>(i)], i == 0 ? -100 : i, 0));
  evo.tell(first);
  evo.tell({eval_of(all[4], 50, 0)});
  ASSERT_EQ(evo.population().size(), 4u);
  EXPECT_EQ(evo.population().front().arch, all[1]);
  EXPECT_EQ(evo.population().back().arch, all[4]);
}

TEST(ArchGenerator, CemUpdateMovesTowardElitesAndEntropyFloorHolds) {
  auto space = test::make_slim_space();
  for (bool ar : {false, true}) {
    ArchGenerator g(*space, ar);
    EXPECT_NEAR(g.normalised_entropy(), 1.0, 1e-12);
    const Arch elite = space->largest();
    for (int i = 0; i < 30; ++i) g.fit({elite, elite}, 0.5, 0.3);
    // Every row keeps entropy >= 0.3 log(K); the elite's options dominate the draws.
    const auto j = g.to_json();
    for (const auto& dim : j["probs"])
      for (const auto& row : dim) {
        const auto p = row.get<std::vector<double>>();
        double h = 0, sum = 0;
        for (double x : p) {
          sum += x;
          if (x > 0) h -= x * std::log(x);
        }
        EXPECT_NEAR(sum, 1.0, 1e-9);
        EXPECT_GE(h, 0.3 * std::log(static_cast<double>(p.size())) - 1e-9);
      }
    Rng rng(2);
    int hits = 0;
    for (int i = 0; i < 400; ++i) hits += g.sample(rng) == elite;
    EXPECT_GT(hits, 40) << (ar ? "autoregressive" : "factorised");  // uniform would give ~13
    // Round trip.
    const ArchGenerator back = ArchGenerator::from_json(*space, j);
    EXPECT_EQ(back.to_json(), j);
    EXPECT_THROW(ArchGenerator::from_json(*test::make_synthetic_space(), j), Error);
  }
  ArchGenerator g(*space, false);
  EXPECT_THROW(g.fit({}, 1.5, 0.1), Error);
}

TEST(GenerativeSearch, SavedGeneratorSamplesTheBudgetLevel) {
  auto space = test::make_slim_space();
  auto macs = std::make_shared<MacsObjective>(*space, Sense::minimize);
  auto params = std::make_shared<ParamsObjective>(*space);
  Problem p(*space, {macs, params});
  GenerativeSearch gen(*space, p, GenerativeParams{.batch = 6, .bins = 3}, 4);
  const auto saved = gen.result()["generator"];
  EXPECT_EQ(saved["kind"], "budget-conditioned");
  EXPECT_EQ(saved["levels"].size(), 3u);
  const auto a = sample_from_saved_generator(*space, saved, 5, 1, std::nan(""));
  EXPECT_EQ(a.size(), 5u);
  for (const auto& x : a) EXPECT_NO_THROW(space->validate(x));
  EXPECT_EQ(sample_from_saved_generator(*space, saved, 5, 1, std::nan("")), a);
}

TEST(Nsga2, StateRoundTripContinuesIdentically) {
  auto space = test::make_synthetic_space();
  auto table = test::make_synthetic_table(*space);
  Problem p(*space, {std::make_shared<LatencyObjective>(*space, table),
                     std::make_shared<MacsObjective>(*space, Sense::maximize)});
  Nsga2 a(*space, Nsga2Params{.population = 10}, 8);
  auto first = a.ask(10, nullptr);
  a.tell(p.evaluate(first, 1));
  Nsga2 b(*space, Nsga2Params{.population = 10}, 999);
  b.load_state(a.save_state());
  EXPECT_EQ(a.ask(10, nullptr), b.ask(10, nullptr));
  EXPECT_THROW(b.load_state({{"algorithm", "random"}}), Error);
}

}  // namespace
}  // namespace hwnas
