// The timing method's statistics and the merging of measurement windows, by hand.
#include <gtest/gtest.h>

#include <vector>

#include "evaluators/timing.h"
#include "spaces/error.h"

namespace hwnas {
namespace {

TEST(Timing, SummaryByHand) {
  // Sorted: 1 2 3 4 5 6 7 8 9 10. Median (5+6)/2; nearest rank p10 = 1st, p90 = 9th value.
  const TimingStats s = summarize_ms({10, 9, 8, 7, 6, 5, 4, 3, 2, 1});
  EXPECT_DOUBLE_EQ(s.median_ms, 5.5);
  EXPECT_DOUBLE_EQ(s.p10_ms, 1);
  EXPECT_DOUBLE_EQ(s.p90_ms, 9);
  EXPECT_DOUBLE_EQ(s.mean_ms, 5.5);
  EXPECT_DOUBLE_EQ(s.min_ms, 1);
  EXPECT_EQ(s.repeats, 10);
  EXPECT_EQ(s.samples_ms.front(), 10);  // call order kept
  EXPECT_THROW(summarize_ms({}), Error);
}

TEST(Timing, WindowsPoolTheirSamples) {
  const TimingStats a = summarize_ms({1, 2, 3}), b = summarize_ms({4, 5}), c = summarize_ms({6});
  const TimingStats m = merge_windows({a, b, c});
  const TimingStats all = summarize_ms({1, 2, 3, 4, 5, 6});
  EXPECT_DOUBLE_EQ(m.median_ms, all.median_ms);
  EXPECT_DOUBLE_EQ(m.p10_ms, all.p10_ms);
  EXPECT_DOUBLE_EQ(m.p90_ms, all.p90_ms);
  EXPECT_EQ(m.repeats, 6);
}

TEST(Timing, OneBurstWindowDoesNotMoveThePooledMedian) {
  // Two clean windows near 10 ms and one inside a burst of interference (+60 %).
  const TimingStats clean1 = summarize_ms({10.0, 10.1, 9.9, 10.2, 10.0});
  const TimingStats clean2 = summarize_ms({10.1, 9.8, 10.0, 10.3, 10.1});
  const TimingStats burst = summarize_ms({16.0, 16.2, 15.9, 16.4, 16.1});
  const TimingStats m = merge_windows({clean1, burst, clean2});
  EXPECT_NEAR(m.median_ms, 10.1, 0.15);  // within the clean windows' range
  EXPECT_GT(burst.median_ms, 1.5 * m.median_ms);
}

TEST(Timing, WindowsWithoutSamplesMergeByMedian) {
  TimingStats a, b, c;
  a.median_ms = 3;
  b.median_ms = 9;
  c.median_ms = 4;
  a.repeats = b.repeats = c.repeats = 5;
  a.min_ms = 2, b.min_ms = 8, c.min_ms = 3.5;
  const TimingStats m = merge_windows({a, b, c});
  EXPECT_DOUBLE_EQ(m.median_ms, 4);
  EXPECT_DOUBLE_EQ(m.min_ms, 2);
  EXPECT_EQ(m.repeats, 15);
  EXPECT_THROW(merge_windows({}), Error);
}

TEST(Timing, WindowConfigSplitsRepeatsAndTime) {
  TimingConfig c;
  c.warmup = 5;
  c.min_repeats = 15;
  c.min_time_ms = 90;
  const TimingConfig w = window_config(c, 3);
  EXPECT_EQ(w.warmup, 5);
  EXPECT_EQ(w.min_repeats, 5);
  EXPECT_DOUBLE_EQ(w.min_time_ms, 30);
  EXPECT_EQ(window_config(c, 10).min_repeats, 3);  // never fewer than 3 per window
  EXPECT_THROW(window_config(c, 0), Error);
}

TEST(Timing, TimeCallsMeetsCountAndTime) {
  int calls = 0;
  TimingConfig c;
  c.warmup = 2;
  c.min_repeats = 4;
  c.min_time_ms = 0;
  const TimingStats s = time_calls([&] { ++calls; }, c);
  EXPECT_EQ(s.repeats, 4);
  EXPECT_EQ(calls, 6);
  EXPECT_EQ(s.samples_ms.size(), 4u);
}

}  // namespace
}  // namespace hwnas
