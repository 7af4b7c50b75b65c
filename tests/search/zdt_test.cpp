// NSGA-II on discrete ZDT1 and ZDT2, whose optimal fronts are known: g = 1 (x2..xn = 0) and
// f2 = 1 - sqrt(f1) (ZDT1) or 1 - f1^2 (ZDT2) on the grid of f1.
#include <gtest/gtest.h>

#include "search/nsga2.h"
#include "search/search_runner.h"
#include "tests/search/toy_spaces.h"

namespace hwnas {
namespace {

constexpr int kVars = 6;
constexpr int kLevels = 11;
constexpr std::size_t kBudget = 6000;  // the stated budget: 6,000 evaluations, population 60

double optimal_hypervolume(int problem, const Normalisation& norm) {
  std::vector<Point> front;
  for (int l = 0; l < kLevels; ++l) {
    std::vector<int> genes(kVars, 0);
    genes[0] = l;
    front.push_back({test::ZdtObjective::value(problem, 1, kLevels, genes),
                     test::ZdtObjective::value(problem, 2, kLevels, genes)});
  }
  return hypervolume_normalised(front, norm);
}

void check_zdt(int problem) {
  auto space = test::make_zdt_space(kVars, kLevels);
  Problem p(*space, {std::make_shared<test::ZdtObjective>(problem, 1, kLevels),
                     std::make_shared<test::ZdtObjective>(problem, 2, kLevels)});
  const Normalisation norm{{0, 0}, {1, 1}};
  const double best = optimal_hypervolume(problem, norm);
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    Nsga2 nsga2(*space, Nsga2Params{.population = 60}, seed);
    RunnerOptions opt;
    opt.max_evaluations = kBudget;
    opt.bounds = norm;
    opt.threads = 1;
    const auto result = SearchRunner(p, nsga2, opt).run();
    EXPECT_LE(result.archive.size(), kBudget);
    EXPECT_GE(result.hypervolume, 0.95 * best) << "ZDT" << problem << " seed " << seed << ": "
                                               << result.hypervolume << " of optimal " << best;
    EXPECT_LE(result.hypervolume, best + 1e-12);
  }
}

TEST(Nsga2Zdt, Zdt1Reaches95PercentOfOptimalHypervolume) { check_zdt(1); }
TEST(Nsga2Zdt, Zdt2Reaches95PercentOfOptimalHypervolume) { check_zdt(2); }

}  // namespace
}  // namespace hwnas
