#include "spaces/elasticvit_sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"
#include "spaces/registry.h"

namespace hwnas {
namespace {

const ElasticVitSpace& space() {
  return dynamic_cast<const ElasticVitSpace&>(get_space("elasticvit"));
}

// SPACES.md section 2 and configs/final_3min_space.yaml.
TEST(ElasticVitSampler, ConfigHasThePublishedLevelsAndBounds) {
  const auto c = ElasticVitSamplerConfig::from_definition(space());
  EXPECT_EQ(c.levels_mflops, (std::vector<int>{100, 200, 300, 400, 500, 700, 900, 1200}));
  EXPECT_EQ(c.flops_bound, 10);
  EXPECT_EQ(c.bank_capacity_small, 150);
  EXPECT_EQ(c.bank_capacity_large, 50);
  EXPECT_EQ(c.max_candidates, 5);
}

TEST(ElasticVitSampler, MinArchPerLevelFollowsSelectMinArch) {
  ComplexityAwareSampler s(space(), 1);
  // select_min_arch with flops_bound 10: (20, 220] -> 200, (220, 420] -> 400, above -> 800.
  const std::map<int, int> want = {{100, 200}, {200, 200}, {300, 400}, {400, 400},
                                   {500, 800}, {700, 800}, {900, 800}, {1200, 800}};
  for (int i = 0; i < s.num_levels(); ++i)
    EXPECT_EQ(s.minimum(i).min_arch_key, want.at(s.minimum(i).target_mflops)) << i;
}

TEST(ElasticVitSampler, ComplexityAwareLongRunRespectsEveryRule) {
  ComplexityAwareSampler s(space(), 2024);
  const int last = s.num_levels() - 1;
  int prev = 0;
  std::map<int, int> moves;  // delta -> count
  int stays_at_first = 0, visits_first = 0, stays_at_last = 0, visits_last = 0;
  for (int step = 0; step < 500; ++step) {
    const SamplerStep st = s.next();
    const int d = st.level_index - prev;
    ASSERT_LE(std::abs(d), 1) << "step " << step;
    ASSERT_GE(st.level_index, 0);
    ASSERT_LE(st.level_index, last);
    if (prev == 0) ++visits_first, stays_at_first += d == 0;
    if (prev == last) ++visits_last, stays_at_last += d == 0;
    ++moves[d];
    ASSERT_EQ(st.subnets.size(), 3u);
    const LevelMinimum& m = s.minimum(st.level_index);
    for (const auto& sub : st.subnets) {
      ASSERT_GE(sub.mflops, st.target_mflops);
      ASSERT_LE(sub.mflops, st.target_mflops + 20.0);
      ASSERT_NEAR(sub.mflops, space().reference_mflops(sub.arch), 1e-9);
      ASSERT_TRUE(m.admits(ElasticVitSpace::config(sub.arch))) << space().to_json(sub.arch).dump();
      ASSERT_NO_THROW(space().validate(sub.arch));
    }
    ASSERT_EQ(ElasticVitSpace::config(st.min_arch), m.min_arch);
    prev = st.level_index;
  }
  EXPECT_GT(moves[-1], 0);
  EXPECT_GT(moves[1], 0);
  EXPECT_GT(moves[0], 0);
  // At the ends "stay" has probability 2/3 ({0, 0, +1} and {-1, 0, 0}).
  if (visits_first > 30) {
    EXPECT_NEAR(static_cast<double>(stays_at_first) / visits_first, 2.0 / 3, 0.2);
  }
  if (visits_last > 30) {
    EXPECT_NEAR(static_cast<double>(stays_at_last) / visits_last, 2.0 / 3, 0.2);
  }
  EXPECT_EQ(s.accepted(), 500 * 3);
  EXPECT_GT(s.rejected(), 0);  // the window is narrow: rejection must happen
}

TEST(ElasticVitSampler, EveryLevelIsReachableWithinTheRetryCap) {
  ComplexityAwareSampler s(space(), 9);
  for (int i = 0; i < s.num_levels(); ++i)
    for (int k = 0; k < 5; ++k) {
      const SampledSubnet sub = s.sample_in_window(i);
      EXPECT_GE(sub.mflops, s.minimum(i).target_mflops);
      EXPECT_GE(sub.draws, 1);
    }
}

TEST(ElasticVitSampler, RetryCapThrowsWithFailureCount) {
  auto c = ElasticVitSamplerConfig::from_definition(space());
  c.max_draws = 3;
  c.levels_mflops = {1200};
  ComplexityAwareSampler s(space(), 3, c);
  EXPECT_THROW(
      {
        for (int i = 0; i < 50; ++i) s.sample_in_window(0);
      },
      Error);
  EXPECT_GT(s.rejected(), 0);
}

TEST(ElasticVitSampler, SameSeedSameSteps) {
  ComplexityAwareSampler a(space(), 77), b(space(), 77), c(space(), 78);
  bool differ = false;
  for (int i = 0; i < 20; ++i) {
    const auto x = a.next(), y = b.next(), z = c.next();
    ASSERT_EQ(x.level_index, y.level_index);
    ASSERT_EQ(x.subnets[0].arch, y.subnets[0].arch);
    differ = differ || !(x.subnets[0].arch == z.subnets[0].arch);
  }
  EXPECT_TRUE(differ);
}

TEST(ElasticVitSampler, BankProbabilitySchedule) {
  PerformanceAwareSampler s(space(), 1);
  EXPECT_DOUBLE_EQ(s.bank_probability(0), 0.2);
  EXPECT_DOUBLE_EQ(s.bank_probability(98), 0.2);
  EXPECT_DOUBLE_EQ(s.bank_probability(99), 0.35);
  EXPECT_DOUBLE_EQ(s.bank_probability(199), 0.5);
  EXPECT_DOUBLE_EQ(s.bank_probability(100000), 1.0);
}

TEST(ElasticVitSampler, BankKeepsCapacityAndReplacesOnlyTheWorstByABetterOne) {
  PerformanceAwareSampler s(space(), 4);
  ASSERT_EQ(s.capacity(0), 150);  // 100 MFLOPs
  ASSERT_EQ(s.capacity(4), 50);   // 500 MFLOPs
  ASSERT_EQ(s.capacity(7), 50);   // 1200 MFLOPs
  Rng rng(8);
  for (int level : {0, 4}) {
    for (int i = 0; i < 400; ++i) {
      const Arch a = space().sample(rng);
      const double score = uniform_real(rng) * 10 - 5;
      const auto before = s.bank(level);
      const bool changed = s.offer(level, a, score);
      const auto& after = s.bank(level);
      ASSERT_LE(static_cast<int>(after.size()), s.capacity(level));
      if (static_cast<int>(before.size()) < s.capacity(level)) {
        ASSERT_TRUE(changed);
        ASSERT_EQ(after.size(), before.size() + 1);
        continue;
      }
      double worst = before.front().score;
      for (const auto& e : before) worst = std::min(worst, e.score);
      ASSERT_EQ(changed, score > worst);
      ASSERT_EQ(after.size(), before.size());
      int diffs = 0;
      for (std::size_t k = 0; k < after.size(); ++k)
        if (!(after[k].arch == before[k].arch) || after[k].score != before[k].score) {
          ++diffs;
          ASSERT_EQ(before[k].score, worst);  // only the worst entry is replaced
          ASSERT_EQ(after[k].score, score);
        }
      ASSERT_EQ(diffs, changed ? 1 : 0);
    }
  }
  EXPECT_THROW(s.offer(8, space().smallest(), 0), Error);
}

TEST(ElasticVitSampler, PerformanceAwareDrawsFollowBankAndPreferenceRules) {
  PerformanceAwareSampler s(space(), 31);
  int bank_draws = 0, preference_draws = 0;
  for (int step = 0; step < 400; ++step) {
    const int epoch = step / 2;  // p grows to 0.5 over the run
    const auto st = s.next(epoch);
    for (const auto& sub : st.subnets) {
      ASSERT_GE(sub.mflops, st.target_mflops);
      ASSERT_LE(sub.mflops, st.target_mflops + 20.0);
      if (sub.from_bank) {
        ++bank_draws;
        const auto& b = s.bank(st.level_index);
        ASSERT_GT(static_cast<int>(b.size()), s.capacity(st.level_index) / 2);
        ASSERT_TRUE(std::any_of(b.begin(), b.end(),
                                [&](const BankEntry& e) { return e.arch == sub.arch; }));
        continue;
      }
      ++preference_draws;
      ASSERT_FALSE(sub.candidates.empty());
      ASSERT_LE(static_cast<int>(sub.candidates.size()), 5);
      ASSERT_EQ(sub.candidates.size(), sub.preferences.size());
      // The kept candidate has the lowest pref (the first of equals), recomputed independently.
      std::size_t best = 0;
      for (std::size_t k = 0; k < sub.preferences.size(); ++k) {
        if (sub.preferences.size() > 1) {
          ASSERT_DOUBLE_EQ(sub.preferences[k], PerformanceAwareSampler::preference(
                                                   sub.candidates[k], s.anchor(st.level_index)));
        }
        if (sub.preferences[k] < sub.preferences[best]) best = k;
      }
      ASSERT_EQ(sub.arch, sub.candidates[best]);
    }
    // Scores arrive after the step, as from a trainer; bank draws are not offered (the code).
    for (const auto& sub : st.subnets)
      if (!sub.from_bank)
        s.offer(st.level_index, sub.arch, synthetic_score(sub.arch, sub.mflops, 31));
  }
  EXPECT_GT(bank_draws, 0);
  EXPECT_GT(preference_draws, 0);
  for (int i = 0; i < 8; ++i) EXPECT_LE(static_cast<int>(s.bank(i).size()), s.capacity(i));
}

TEST(ElasticVitSampler, PreferenceMatchesHandComputedSwap) {
  // pref(c) = F(c with the anchor's T widths) - F(c with the anchor's T depths).
  const Arch c = space().resolve("l1"), anchor = space().resolve("t1");
  ElasticVitConfig w = ElasticVitSpace::config(c), d = w;
  const auto a = ElasticVitSpace::config(anchor);
  for (int s = 3; s < 7; ++s) w.widths[s] = a.widths[s], d.depths[s] = a.depths[s];
  EXPECT_DOUBLE_EQ(PerformanceAwareSampler::preference(c, anchor),
                   ElasticVitSpace::reference_mflops(w) - ElasticVitSpace::reference_mflops(d));
  EXPECT_DOUBLE_EQ(PerformanceAwareSampler::preference(c, c), 0.0);
}

TEST(ElasticVitSampler, AnchorIsBestOfLowestBank) {
  PerformanceAwareSampler s(space(), 2);
  EXPECT_EQ(s.anchor(3), space().smallest());  // empty lowest bank: documented fallback
  const Arch good = space().resolve("t1"), bad = space().resolve("t2");
  s.offer(0, bad, -3.0);
  s.offer(0, good, -1.0);
  EXPECT_EQ(s.anchor(3), good);
  EXPECT_EQ(s.anchor(0), space().smallest());  // the lowest level itself uses the min arch
}

}  // namespace
}  // namespace hwnas
