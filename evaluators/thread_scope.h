// ThreadScope: the thread count of every engine operator within a scope.
#pragma once

#include <memory>

namespace hwnas {

/// Limits TBB (every parallel loop of the engine) to `threads` worker threads while alive, and
/// sets OpenBLAS to one thread (the engine calls single-threaded GEMM per TBB tile; OpenBLAS's
/// own pool would oversubscribe the cores). While several scopes are alive the smallest count
/// applies (tbb::global_control semantics).
/// Throws hwnas::Error if threads < 1.
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

/// Threads the engine's parallel loops may use now (tbb::this_task_arena::max_concurrency()).
int engine_threads();

/// Sets OpenBLAS to one thread; idempotent. Called by ThreadScope and by Model construction.
void pin_blas_single_thread();

}  // namespace hwnas
