// The engine's scheduler (SpinPool behind parallel_for): every index exactly once, static
// shares, nesting, exceptions, the TBB fallback off the scope's thread, and a pool with more
// threads than cores.
#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "evaluators/runtime/parallel.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {
namespace {

// Runs parallel_for over [begin, end) and counts how often each index was visited.
std::vector<int> visits(int begin, int end, int grain) {
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(end > 0 ? end : 0));
  parallel_for(begin, end, grain, [&](int lo, int hi) {
    EXPECT_LE(begin, lo);
    EXPECT_LT(lo, hi);
    EXPECT_LE(hi, end);
    for (int i = lo; i < hi; ++i) seen[static_cast<std::size_t>(i)].fetch_add(1);
  });
  std::vector<int> out;
  for (auto& s : seen) out.push_back(s.load());
  return out;
}

TEST(Parallel, EveryIndexExactlyOnceOnThePoolForManyShapes) {
  for (int threads : {1, 2, 3}) {
    ThreadScope scope(threads);
    ASSERT_EQ(engine_threads(), threads);
    for (int end : {1, 2, 3, 7, 16, 49, 196, 1000})
      for (int grain : {1, 2, 16, 300})
        for (int round = 0; round < 3; ++round) {
          const auto v = visits(0, end, grain);
          for (int i = 0; i < end; ++i)
            ASSERT_EQ(v[static_cast<std::size_t>(i)], 1)
                << "threads " << threads << " end " << end << " grain " << grain << " i " << i;
        }
  }
}

TEST(Parallel, SubrangeAndEmptyRange) {
  ThreadScope scope(2);
  const auto v = visits(5, 40, 3);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(v[static_cast<std::size_t>(i)], i >= 5 ? 1 : 0);
  int calls = 0;
  parallel_for(3, 3, 1, [&](int, int) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(Parallel, StaticSharesGiveEachThreadTheSameChunksEveryTime) {
  ThreadScope scope(2);
  std::vector<std::thread::id> first(8), again(8);
  for (auto* out : {&first, &again})
    parallel_for(0, 8, 1, [&](int lo, int hi) {
      for (int i = lo; i < hi; ++i)
        (*out)[static_cast<std::size_t>(i)] = std::this_thread::get_id();
    });
  EXPECT_EQ(first, again);
  EXPECT_EQ(first[0], std::this_thread::get_id());  // the owner takes the first share
  EXPECT_NE(first[7], std::this_thread::get_id());
}

TEST(Parallel, NestedRegionRunsInlineAndCompletes) {
  ThreadScope scope(2);
  std::atomic<int> total{0};
  parallel_for(0, 4, 1, [&](int lo, int hi) {
    for (int i = lo; i < hi; ++i)
      parallel_for(0, 10, 1, [&](int a, int b) { total.fetch_add(b - a); });
  });
  EXPECT_EQ(total.load(), 40);
}

TEST(Parallel, ExceptionFromAWorkerReachesTheCaller) {
  ThreadScope scope(2);
  EXPECT_THROW(parallel_for(0, 8, 1,
                            [&](int lo, int) {
                              if (lo == 7) throw std::runtime_error("tile 7");
                            }),
               std::runtime_error);
  // The pool is still usable afterwards.
  const auto v = visits(0, 64, 1);
  for (int x : v) EXPECT_EQ(x, 1);
}

TEST(Parallel, OtherThreadsFallBackToTbb) {
  ThreadScope scope(2);
  std::vector<int> v;
  std::thread other([&] {
    EXPECT_EQ(current_spin_pool(), nullptr);
    v = visits(0, 100, 7);
  });
  other.join();
  for (int x : v) EXPECT_EQ(x, 1);
}

// Both pool threads on one CPU: the owner, done with its share, sees the worker on its CPU,
// spins only briefly and blocks until the worker (which cannot run meanwhile) finishes and wakes
// it. Some regions make the worker's share sleep (0.2 or 3 ms), past any spin of the owner's, so
// both orders of "worker done" and "owner asleep" occur. A lost wake-up hangs this test (CTest's
// timeout fails it).
TEST(Parallel, OversubscribedPoolWakesItsOwner) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
  int cpu = 0;
  while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &saved)) ++cpu;
  ASSERT_LT(cpu, CPU_SETSIZE);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);  // the pool's worker inherits it
  {
    ThreadScope scope(2);
    const std::thread::id owner = std::this_thread::get_id();
    for (int region = 0; region < 400; ++region) {
      std::vector<std::atomic<int>> seen(8);
      parallel_for(0, 8, 1, [&](int lo, int hi) {
        if (region % 2 == 1 && std::this_thread::get_id() != owner)
          std::this_thread::sleep_for(std::chrono::microseconds(region % 4 == 1 ? 200 : 3000));
        for (int i = lo; i < hi; ++i) seen[static_cast<std::size_t>(i)].fetch_add(1);
      });
      for (int i = 0; i < 8; ++i)
        ASSERT_EQ(seen[static_cast<std::size_t>(i)].load(), 1) << "region " << region << " i " << i;
    }
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
}

TEST(Parallel, ScopesNestAndRestoreThePool) {
  ThreadScope outer(2);
  SpinPool* const outer_pool = current_spin_pool();
  {
    ThreadScope inner(1);
    EXPECT_EQ(engine_threads(), 1);
    EXPECT_NE(current_spin_pool(), outer_pool);
  }
  EXPECT_EQ(current_spin_pool(), outer_pool);
  EXPECT_EQ(engine_threads(), 2);
}

}  // namespace
}  // namespace hwnas
