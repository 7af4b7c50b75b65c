// ThreadScope: the thread count of every engine operator within a scope.
#pragma once

#include <memory>

namespace hwnas {

/// Runs the engine's parallel loops (evaluators/runtime/parallel.h) opened on this thread on a
/// SpinPool of `threads` threads while alive, limits TBB (loops started from other threads) to
/// `threads`, and sets OpenBLAS to one thread (the engine calls single-threaded GEMM per tile;
/// OpenBLAS's own pool would oversubscribe the cores), and flushes subnormal floats to zero on
/// every engine thread (evaluators/runtime/denormals.h). Scopes nest: the innermost one on a thread
/// applies to its loops; for TBB the smallest count applies (tbb::global_control semantics). Open
/// one scope per measurement or command, not per forward: starting the pool's threads costs about
/// 50 us. Throws hwnas::Error if threads < 1.
class ThreadScope {
 public:
  explicit ThreadScope(int threads);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

  int threads() const { return threads_; }

 private:
  int threads_;
  std::unique_ptr<struct ThreadScopeState> state_;
};

/// Threads the engine's parallel loops use now: the current scope's pool size on its thread,
/// else tbb::this_task_arena::max_concurrency() (bounded by the active global_control).
int engine_threads();

}  // namespace hwnas
