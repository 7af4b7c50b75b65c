// parallel_for: how every engine operator splits its work over the engine's threads.
#pragma once

#include <type_traits>

#include "evaluators/runtime/spin_pool.h"

namespace hwnas {

/// Calls body(lo, hi) for consecutive chunks [lo, hi) of [begin, end), each of at least `grain`
/// indices (the last may be shorter; with grain 1 and few indices, one per chunk; on the pool at
/// most 8 chunks per thread), and returns when all are done. On the thread that opened a
/// ThreadScope the chunks run on that scope's SpinPool (workers that spin between the short regions
/// of a forward pass); on any other thread (a TBB task evaluating images in parallel, a test
/// without a scope) they run through tbb::parallel_for, so nesting inside TBB stays correct. The
/// first exception thrown by body is rethrown here.
template <class Body>
void parallel_for(int begin, int end, int grain, Body&& body);

/// The SpinPool of the innermost ThreadScope opened on this thread, or nullptr.
SpinPool* current_spin_pool();
/// Sets this thread's pool (ThreadScope does this); returns the previous one.
SpinPool* set_current_spin_pool(SpinPool* pool);

namespace detail {
void parallel_range(int begin, int end, int grain, SpinPool::RangeFn fn, void* context);
}

template <class Body>
void parallel_for(int begin, int end, int grain, Body&& body) {
  using B = std::remove_reference_t<Body>;
  detail::parallel_range(
      begin, end, grain, [](void* c, int lo, int hi) { (*static_cast<B*>(c))(lo, hi); },
      const_cast<void*>(static_cast<const void*>(&body)));
}

}  // namespace hwnas
