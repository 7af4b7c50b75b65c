#include "evaluators/runtime/parallel.h"

#include <algorithm>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include "evaluators/runtime/denormals.h"

namespace hwnas {
namespace {
thread_local SpinPool* t_pool = nullptr;
}  // namespace

SpinPool* current_spin_pool() { return t_pool; }

SpinPool* set_current_spin_pool(SpinPool* pool) {
  SpinPool* previous = t_pool;
  t_pool = pool;
  return previous;
}

namespace detail {

void parallel_range(int begin, int end, int grain, SpinPool::RangeFn fn, void* context) {
  if (end <= begin) return;
  if (grain < 1) grain = 1;
  if (t_pool) {
    // At most 8 chunks per thread: enough for balance, few enough that claiming stays cheap.
    const int cap = 8 * t_pool->threads();
    grain = std::max(grain, (end - begin + cap - 1) / cap);
    t_pool->run(begin, end, grain, fn, context);
    return;
  }
  tbb::parallel_for(
      tbb::blocked_range<int>(begin, end, grain),
      [&](const tbb::blocked_range<int>& r) {
        thread_local const bool flushed = (flush_denormals_on_this_thread(), true);
        (void)flushed;
        fn(context, r.begin(), r.end());
      },
      tbb::simple_partitioner());
}

}  // namespace detail
}  // namespace hwnas
