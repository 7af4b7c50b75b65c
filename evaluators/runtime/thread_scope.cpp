#include "evaluators/runtime/thread_scope.h"

#include <string>

#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include "core/error.h"
#include "evaluators/runtime/denormals.h"
#include "evaluators/runtime/parallel.h"

namespace hwnas {

struct ThreadScopeState {
  explicit ThreadScopeState(int threads)
      : control(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads)),
        pool(threads),
        previous(set_current_spin_pool(&pool)) {}
  ~ThreadScopeState() { set_current_spin_pool(previous); }
  tbb::global_control control;
  FlushDenormals flush;  // the owner thread; the pool's workers set it themselves
  SpinPool pool;
  SpinPool* previous;
};

ThreadScope::ThreadScope(int threads) : threads_(threads) {
  if (threads < 1) throw Error("thread count must be at least 1, got " + std::to_string(threads));
  state_ = std::make_unique<ThreadScopeState>(threads);
}

ThreadScope::~ThreadScope() = default;

int engine_threads() {
  if (const SpinPool* pool = current_spin_pool()) return pool->threads();
  const int arena = tbb::this_task_arena::max_concurrency();
  const int allowed = static_cast<int>(
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
  return std::max(1, std::min(arena, allowed));
}

}  // namespace hwnas
