#include "evaluators/runtime/spin_pool.h"

#include <sched.h>

#include <chrono>
#include <exception>

// The spin loops poll without PAUSE (under KVM a PAUSE loop can trigger pause-loop exits) and
// only for a short time: on this project's 2-vCPU VMs an L1 forward took 16.4-18.0 ms with a
// 50 us spin, 17.1-18.5 ms with 200 us and 19-21 ms with 2 ms (a spinning core costs its
// sibling clock speed), against 15.6-18.7 ms for TBB alone, whose medians also jumped to 28 ms
// in some runs (bench/README.md, "Scheduling").
#define HWNAS_CPU_RELAX() std::atomic_signal_fence(std::memory_order_seq_cst)

#include "core/error.h"
#include "evaluators/runtime/denormals.h"

namespace hwnas {
namespace {

thread_local bool t_in_region = false;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

SpinPool::SpinPool(int threads, int spin_us)
    : spin_ns_(static_cast<std::int64_t>(spin_us) * 1000),
      worker_cpu_(static_cast<std::size_t>(threads > 1 ? threads - 1 : 0)) {
  if (threads < 1) throw Error("SpinPool: threads must be >= 1, got " + std::to_string(threads));
  workers_.reserve(static_cast<std::size_t>(threads - 1));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

SpinPool::~SpinPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (auto& w : workers_) w.join();
}

void SpinPool::work_share(int thread) {
  const long n = threads();
  const int c0 = static_cast<int>(chunks_ * thread / n);
  const int c1 = static_cast<int>(chunks_ * (thread + 1) / n);
  t_in_region = true;
  for (int c = c0; c < c1; ++c) {
    const int lo = begin_ + c * grain_;
    const int hi = std::min(end_, lo + grain_);
    try {
      fn_(context_, lo, hi);
    } catch (...) {
      if (!failed_.exchange(true)) error_ = std::current_exception();
    }
  }
  t_in_region = false;
}

void SpinPool::worker_loop(int thread) {
  flush_denormals_on_this_thread();
  std::uint32_t seen = 0;
  while (true) {
    // Spin for the next region, then block on the generation counter (futex). Not on the
    // owner's CPU: there, spinning only keeps the owner from publishing the region.
    const bool beside_owner = sched_getcpu() == owner_cpu_.load(std::memory_order_relaxed);
    const std::int64_t deadline = now_ns() + (beside_owner ? 0 : spin_ns_);
    int polls = 0;
    while (generation_.load(std::memory_order_acquire) == seen) {
      HWNAS_CPU_RELAX();
      if (++polls == 1024) {
        polls = 0;
        if (now_ns() > deadline) {
          sleepers_.fetch_add(1);
          generation_.wait(seen);  // returns at once if the generation moved meanwhile
          sleepers_.fetch_sub(1);
        }
      }
    }
    // The owner publishes region g + 1 only after every worker finished g: no region is skipped.
    ++seen;
    if (stop_.load()) return;
    // A hint for wait_for_workers only.
    worker_cpu_[static_cast<std::size_t>(thread - 1)].store(sched_getcpu(),
                                                            std::memory_order_relaxed);
    work_share(thread);
    // seq_cst, like the owner's side in wait_for_workers(): either this thread sees the owner's
    // flag and wakes it, or the owner's re-read of done_ sees this increment.
    done_.fetch_add(1);
    if (owner_sleeping_.load()) done_.notify_one();
  }
}

void SpinPool::wait_for_workers(int workers) {
  // A worker that shares this CPU (more engine threads than free cores: a neighbour process, a
  // busy VM) cannot finish its share while the owner spins, and an owner spinning without end
  // kept it off the core for a time slice per region (bench/README.md, "Scheduling"). So the
  // owner then spins only briefly before it blocks until the last worker wakes it. Otherwise it
  // spins for up to ten worker spins, as long as an uneven region needs, and blocks after that
  // (a worker's recorded CPU can be stale). Yielding does not hand the core over under Linux's
  // CFS when the worker has run longer: an fmnist forward at 2 threads on one core took 5.2 ms
  // with a 2 ms yield phase, against 0.76 ms on one thread.
  const int cpu = owner_cpu_.load(std::memory_order_relaxed);
  bool crowded = false;
  for (const auto& w : worker_cpu_) crowded = crowded || w.load(std::memory_order_relaxed) == cpu;
  const std::int64_t deadline = now_ns() + (crowded ? spin_ns_ / 10 : 10 * spin_ns_);
  int polls = 0;
  int done = 0;
  while ((done = done_.load(std::memory_order_acquire)) < workers) {
    HWNAS_CPU_RELAX();
    if (++polls < 256) continue;
    polls = 0;
    if (now_ns() <= deadline) continue;
    owner_sleeping_.store(true);
    done = done_.load();
    if (done < workers) done_.wait(done);  // returns at once if done_ moved meanwhile
    owner_sleeping_.store(false);
  }
}

void SpinPool::run(int begin, int end, int grain, RangeFn fn, void* context) {
  if (end <= begin) return;
  if (grain < 1) grain = 1;
  const int chunks = (end - begin + grain - 1) / grain;
  if (workers_.empty() || chunks == 1 || t_in_region) {
    fn(context, begin, end);
    return;
  }
  fn_ = fn;
  context_ = context;
  begin_ = begin;
  end_ = end;
  grain_ = grain;
  chunks_ = chunks;
  failed_.store(false);
  error_ = nullptr;
  done_.store(0, std::memory_order_relaxed);
  owner_cpu_.store(sched_getcpu(), std::memory_order_relaxed);
  generation_.fetch_add(1);  // seq_cst: publishes the region, ordered before the sleepers check
  if (sleepers_.load() > 0) generation_.notify_all();
  work_share(0);
  wait_for_workers(static_cast<int>(workers_.size()));
  if (failed_.load()) std::rethrow_exception(error_);
}

}  // namespace hwnas
