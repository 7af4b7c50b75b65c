// SpinPool: the engine's fork-join scheduler for one forward pass at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace hwnas {

/// A fixed set of `threads - 1` workers plus the calling (owner) thread that run chunked index
/// ranges. Between parallel regions the workers spin for `spin_us` microseconds before they
/// block, so the back-to-back regions of a forward pass (a GEMM, a pooling, a layer norm:
/// 10-500 us each) do not pay a sleeping thread's wake-up. The owner, done with its own share,
/// spins for the workers' shares (up to 10 x `spin_us`), then blocks until the last worker wakes
/// it. Where a thread shares a CPU with another of the pool (more threads than free cores),
/// neither spins for long: such a pool loses microseconds per region instead of a scheduler time
/// slice.
///
/// Why not TBB alone: with one TBB worker and two tiles per region, a worker that has gone to
/// sleep arrives after the owner has taken both tiles, and the region runs serially; which of
/// the two happens depends on timing, so the same block measured twice gave 0.8 or 1.5 ms
/// (bench/bench_block_stability), and the latency table did not add up to end-to-end times.
/// This is the active wait policy of OpenMP runtimes and ggml's thread pool.
///
/// Chunks are assigned statically: thread t of T runs chunks [t*C/T, (t+1)*C/T), so a row tile
/// stays on the core (and in the L2) that wrote it in the previous operator, and a block runs
/// the same schedule in a network as alone (OpenMP's static schedule; dynamic claiming was
/// 15 % slower on an L1 forward here).
/// run() must be called from the thread that constructed the pool; a region started from inside
/// a region runs inline on the calling thread. Not copyable or movable.
class SpinPool {
 public:
  using RangeFn = void (*)(void* context, int lo, int hi);

  /// threads >= 1 (1: no workers, run() is a plain loop). spin_us: spin before blocking.
  explicit SpinPool(int threads, int spin_us = 50);
  ~SpinPool();
  SpinPool(const SpinPool&) = delete;
  SpinPool& operator=(const SpinPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  /// Calls fn(context, lo, hi) for consecutive chunks [lo, hi) of [begin, end), each of at most
  /// `grain` indices (grain >= 1), on all threads; returns when every chunk is done. An
  /// exception from fn is rethrown on the owner (the first one; the rest of the region still
  /// runs).
  void run(int begin, int end, int grain, RangeFn fn, void* context);

 private:
  void worker_loop(int thread);
  void work_share(int thread);
  /// The owner's wait until `workers` workers have finished the current region.
  void wait_for_workers(int workers);

  std::vector<std::thread> workers_;
  const std::int64_t spin_ns_;
  // The published region; written by the owner before `generation_` is bumped.
  RangeFn fn_ = nullptr;
  void* context_ = nullptr;
  int begin_ = 0, end_ = 0, grain_ = 1, chunks_ = 0;
  alignas(64) std::atomic<std::uint32_t> generation_{0};
  alignas(64) std::atomic<int> done_{0};     // workers finished with the current region
  std::atomic<bool> owner_sleeping_{false};  // the owner blocks on done_ (wait_for_workers)
  // Scheduling hints for wait_for_workers() and the workers' spin (relaxed, never needed for
  // correctness): the CPU the owner and each worker ran on when it last began a region
  // (sched_getcpu, 3 ns here).
  std::atomic<int> owner_cpu_{-1};
  std::vector<std::atomic<int>> worker_cpu_;
  alignas(64) std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

}  // namespace hwnas
