// The timing method's statistics and the merging of measurement windows, by hand; its guard
// against disturbed windows, with threads pinned to share a CPU.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/error.h"
#include "evaluators/runtime/host_activity.h"
#include "evaluators/runtime/timing.h"

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
  c.max_retimes = 0;  // counted calls: no window may be timed again
  const TimingStats s = time_calls([&] { ++calls; }, c);
  EXPECT_EQ(s.repeats, 4);
  EXPECT_EQ(calls, 6);
  EXPECT_EQ(s.samples_ms.size(), 4u);
  EXPECT_EQ(s.conditions.windows, 1);
  EXPECT_EQ(s.conditions.retimed, 0);
}

TEST(Timing, DisturbanceByHand) {
  TimingConditions c;
  EXPECT_EQ(window_disturbance(c), 0.0);  // unknown
  c = {100.0, 80.0, 0.0, 2, 1, 0};
  EXPECT_NEAR(c.cpu_share(), 0.8, 1e-12);
  EXPECT_NEAR(window_disturbance(c), 0.2, 1e-12);
  c.steal_ms = 30.0;  // steal beyond the thread's lost share decides
  EXPECT_NEAR(window_disturbance(c), 0.3, 1e-12);
  c.workers_wait_ms = 45.0;  // workers kept off their CPUs for 45 of the 100 ms
  EXPECT_NEAR(window_disturbance(c), 0.45, 1e-12);
  c.workers_wait_ms = 250.0;  // summed over threads it can pass the wall time
  EXPECT_EQ(window_disturbance(c), 1.0);
}

// The CPUs this process may run on, in order.
std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

void pin_this_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof set, &set), 0);
}

// Two threads that spin on one CPU until destroyed: each is runnable about half the time it
// does not run, which is what a worker looks like when another task takes its core.
class TwoSpinnersOnOneCpu {
 public:
  explicit TwoSpinnersOnOneCpu(int cpu) {
    for (int i = 0; i < 2; ++i)
      threads_.emplace_back([this, cpu] {
        pin_this_thread(cpu);
        ++started_;
        while (!stop_.load(std::memory_order_relaxed)) {
        }
      });
    while (started_.load() < 2) std::this_thread::yield();
  }
  ~TwoSpinnersOnOneCpu() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> started_{0};
  std::vector<std::thread> threads_;
};

bool schedstat_accounted() { return access("/proc/self/schedstat", R_OK) == 0; }

TEST(HostActivity, ReadsTheRunQueueDelayOfTheProcessOtherThreads) {
  if (!schedstat_accounted()) GTEST_SKIP() << "this kernel keeps no per-thread schedstat";
  const std::vector<int> cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  HostActivity before, after;
  {
    TwoSpinnersOnOneCpu spinners(cpus.back());
    before = read_host_activity();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    after = read_host_activity();
  }
  // Sharing one CPU, each spinner waits about half of the 300 ms: about 300 ms summed. The
  // sleeping caller's own (zero) delay is not part of it.
  const double waited = after.others_wait_ms - before.others_wait_ms;
  EXPECT_GT(waited, 100.0);
  EXPECT_LT(waited, 2 * (after.wall_ms - before.wall_ms) + 50.0);
}

TEST(Timing, AWindowInWhichAWorkerWaitedForItsCpuIsTimedAgain) {
  // The timing thread has a CPU of its own and never stops running; the other threads fight
  // for a second CPU. Only the workers' run-queue delay shows the disturbance.
  if (!schedstat_accounted()) GTEST_SKIP() << "this kernel keeps no per-thread schedstat";
  const std::vector<int> cpus = allowed_cpus();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two CPUs, this process may use " << cpus.size();
  cpu_set_t original;
  ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof original, &original), 0);
  pin_this_thread(cpus[0]);
  TimingConfig c;
  c.warmup = 0;
  c.min_repeats = 20;
  c.min_time_ms = 0;
  c.max_retimes = 2;
  const auto spin_1ms = [] {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
    while (std::chrono::steady_clock::now() < end) {
    }
  };
  TimingStats s;
  {
    TwoSpinnersOnOneCpu workers(cpus[1]);
    s = time_calls(spin_1ms, c);
  }
  ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof original, &original), 0);
  EXPECT_EQ(s.conditions.retimed, 2);
  EXPECT_GT(s.conditions.workers_wait_ms, 0.2 * s.conditions.wall_ms);
}

TEST(Timing, AWindowTheThreadSleptThroughIsTimedAgain) {
  // A sleeping call is a window in which the timing thread did not run: what a window looks
  // like when another task holds the CPU. It is retimed max_retimes times, then kept.
  TimingConfig c;
  c.warmup = 0;
  c.min_repeats = 3;
  c.min_time_ms = 0;
  c.max_retimes = 2;
  int calls = 0;
  const auto sleep_2ms = [&] {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  };
  const TimingStats s = time_calls(sleep_2ms, c);
  EXPECT_EQ(calls, 9);
  EXPECT_EQ(s.conditions.retimed, 2);
  EXPECT_EQ(s.conditions.windows, 1);
  EXPECT_LT(s.conditions.cpu_share(), 0.5);
  EXPECT_GE(s.conditions.wall_ms, 6.0);
  c.min_cpu_share = 0;  // the guard off
  calls = 0;
  EXPECT_EQ(time_calls(sleep_2ms, c).conditions.retimed, 0);
  EXPECT_EQ(calls, 3);
  c.min_cpu_share = 1.5;
  EXPECT_THROW(time_calls(sleep_2ms, c), Error);
}

TEST(Timing, MergedWindowsSumTheirConditions) {
  TimingStats a = summarize_ms({1.0, 2.0}), b = summarize_ms({3.0});
  a.conditions = {10, 9, 1, 3, 1, 1, 0.5};
  b.conditions = {20, 20, 0, 5, 1, 0, 2};
  const TimingConditions m = merge_windows({a, b}).conditions;
  EXPECT_DOUBLE_EQ(m.wall_ms, 30);
  EXPECT_DOUBLE_EQ(m.thread_cpu_ms, 29);
  EXPECT_DOUBLE_EQ(m.steal_ms, 1);
  EXPECT_EQ(m.max_running, 5);
  EXPECT_EQ(m.windows, 2);
  EXPECT_EQ(m.retimed, 1);
  EXPECT_DOUBLE_EQ(m.workers_wait_ms, 2.5);
}

}  // namespace
}  // namespace hwnas
