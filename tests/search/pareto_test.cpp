// Pareto utilities against independent references: brute-force ranking, inclusion-exclusion
// hypervolume, hand-computed crowding distances and IGD.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/rng.h"
#include "search/pareto.h"

namespace hwnas {
namespace {

std::vector<Point> random_points(Rng& rng, int n, int m, int levels) {
  std::vector<Point> pts;
  for (int i = 0; i < n; ++i) {
    Point p;
    for (int k = 0; k < m; ++k)
      p.push_back(uniform_int(rng, 0, levels) / static_cast<double>(levels));
    pts.push_back(p);
  }
  return pts;
}

// Hypervolume by inclusion-exclusion over all subsets: the union of the boxes [p, ref].
double hv_inclusion_exclusion(const std::vector<Point>& pts, const Point& ref) {
  const std::size_t n = pts.size();
  double total = 0.0;
  for (std::size_t mask = 1; mask < (std::size_t{1} << n); ++mask) {
    Point corner(ref.size(), -std::numeric_limits<double>::infinity());
    int bits = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (mask >> i & 1) {
        ++bits;
        for (std::size_t k = 0; k < ref.size(); ++k) corner[k] = std::max(corner[k], pts[i][k]);
      }
    double vol = 1.0;
    for (std::size_t k = 0; k < ref.size(); ++k) vol *= std::max(0.0, ref[k] - corner[k]);
    total += (bits % 2 ? 1.0 : -1.0) * vol;
  }
  return total;
}

TEST(Pareto, DominanceDefinition) {
  EXPECT_TRUE(dominates({1, 2}, {1, 3}));
  EXPECT_FALSE(dominates({1, 2}, {1, 2}));
  EXPECT_FALSE(dominates({1, 3}, {2, 2}));
  // Feasible beats infeasible whatever the objectives; less violation beats more.
  EXPECT_TRUE(constrained_dominates({9, 9}, 0.0, {0, 0}, 0.1));
  EXPECT_TRUE(constrained_dominates({9, 9}, 0.1, {0, 0}, 0.2));
  EXPECT_FALSE(constrained_dominates({0, 0}, 0.2, {9, 9}, 0.1));
}

TEST(Pareto, NonDominatedSortMatchesPeelingReference) {
  Rng rng(7);
  for (int trial = 0; trial < 30; ++trial) {
    const int m = 2 + trial % 2;
    auto pts = random_points(rng, 40, m, 6);
    std::vector<double> viol(pts.size(), 0.0);
    for (auto& v : viol) v = uniform_int(rng, 0, 3) == 0 ? uniform_int(rng, 1, 3) * 0.1 : 0.0;
    const auto fronts = non_dominated_sort(pts, viol);
    // Reference: repeatedly peel off the points no remaining point dominates.
    std::vector<int> rank(pts.size(), -1);
    for (int r = 0;; ++r) {
      std::vector<std::size_t> peel;
      for (std::size_t i = 0; i < pts.size(); ++i) {
        if (rank[i] >= 0) continue;
        bool dominated = false;
        for (std::size_t j = 0; j < pts.size(); ++j)
          if (rank[j] < 0 && j != i && constrained_dominates(pts[j], viol[j], pts[i], viol[i]))
            dominated = true;
        if (!dominated) peel.push_back(i);
      }
      if (peel.empty()) break;
      for (auto i : peel) rank[i] = r;
    }
    std::size_t counted = 0;
    for (std::size_t r = 0; r < fronts.size(); ++r)
      for (auto i : fronts[r]) {
        EXPECT_EQ(rank[i], static_cast<int>(r)) << "trial " << trial << " point " << i;
        ++counted;
      }
    EXPECT_EQ(counted, pts.size());
  }
}

TEST(Pareto, CrowdingDistanceHandComputed) {
  // Front sorted on f0: (0,4) (1,3) (3,1) (4,0); ranges 4 and 4.
  std::vector<Point> pts = {{1, 3}, {4, 0}, {0, 4}, {3, 1}};
  const auto d = crowding_distance(pts, {0, 1, 2, 3});
  EXPECT_TRUE(std::isinf(d[1]));
  EXPECT_TRUE(std::isinf(d[2]));
  // (1,3): neighbours (0,4) and (3,1): (3-0)/4 + (4-1)/4 = 1.5; (3,1): (4-1)/4 + (3-0)/4 = 1.5
  EXPECT_DOUBLE_EQ(d[0], 1.5);
  EXPECT_DOUBLE_EQ(d[3], 1.5);
}

TEST(Pareto, HypervolumeHandComputed) {
  // Staircase (1,3) (2,2) (3,1) under ref (4,4): 3 + 2 + 1 = 6.
  EXPECT_DOUBLE_EQ(hypervolume({{1, 3}, {2, 2}, {3, 1}}, {4, 4}), 6.0);
  // Unit cube corner point in 3-D: 2*2*2.
  EXPECT_DOUBLE_EQ(hypervolume({{0, 0, 0}}, {2, 2, 2}), 8.0);
  // Points outside the reference box count nothing.
  EXPECT_DOUBLE_EQ(hypervolume({{5, 0}}, {4, 4}), 0.0);
  EXPECT_THROW(hypervolume({{0, 0, 0, 0}}, {1, 1, 1, 1}), Error);
}

TEST(Pareto, HypervolumeMatchesInclusionExclusion) {
  Rng rng(3);
  for (int trial = 0; trial < 40; ++trial) {
    const int m = 2 + trial % 2;
    const auto pts = random_points(rng, 1 + trial % 10, m, 10);
    const Point ref(static_cast<std::size_t>(m), 1.05);
    EXPECT_NEAR(hypervolume(pts, ref), hv_inclusion_exclusion(pts, ref), 1e-12)
        << "trial " << trial;
  }
}

TEST(Pareto, NormalisedHypervolumeUsesReference11) {
  Normalisation n{{0, 10}, {2, 20}};
  // The ideal corner maps to (0,0): the whole box 1.1 x 1.1.
  EXPECT_NEAR(hypervolume_normalised({{0, 10}}, n), 1.21, 1e-12);
  // The nadir corner maps to (1,1): 0.1 x 0.1.
  EXPECT_NEAR(hypervolume_normalised({{2, 20}}, n), 0.01, 1e-12);
}

TEST(Pareto, IgdHandComputed) {
  // Reference (0,1) and (1,0); front {(0,1)}: distances 0 and sqrt(2) -> mean sqrt(2)/2.
  EXPECT_NEAR(igd({{0, 1}}, {{0, 1}, {1, 0}}), std::sqrt(2.0) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(igd({{0, 1}, {1, 0}}, {{0, 1}, {1, 0}}), 0.0);
  EXPECT_THROW(igd({}, {{0, 1}}), Error);
}

}  // namespace
}  // namespace hwnas
