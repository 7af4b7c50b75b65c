#include "evaluators/ops/max_pool.h"

#include <algorithm>
#include <limits>

#include "evaluators/runtime/parallel.h"

namespace hwnas {

void max_pool(const MaxPoolParams& p, const Tensor& in, Tensor& out) {
#if HWNAS_REFERENCE_KERNELS
  max_pool_reference(p, in, out);
#else
  validate(p, in, out);
  const int k = p.window, ho = out.h(), wo = out.w(), c = p.c;
  // One output row per task; the channel loop is contiguous in both tensors (vectorises).
  parallel_for(0, in.n() * ho, 4, [&](int lo, int hi) {
    for (int row = lo; row < hi; ++row) {
      const int b = row / ho, y = row % ho;
      for (int x = 0; x < wo; ++x) {
        float* o = out.data() + out.index(b, y, x, 0);
        const float* first = in.data() + in.index(b, y * k, x * k, 0);
        std::copy(first, first + c, o);
        for (int u = 0; u < k; ++u)
          for (int v = 0; v < k; ++v) {
            const float* src = in.data() + in.index(b, y * k + u, x * k + v, 0);
            for (int ch = 0; ch < c; ++ch) o[ch] = std::max(o[ch], src[ch]);
          }
      }
    }
  });
#endif
}

void max_pool_reference(const MaxPoolParams& p, const Tensor& in, Tensor& out) {
  validate(p, in, out);
  const int k = p.window;
  for (int b = 0; b < out.n(); ++b)
    for (int y = 0; y < out.h(); ++y)
      for (int x = 0; x < out.w(); ++x)
        for (int ch = 0; ch < p.c; ++ch) {
          float m = -std::numeric_limits<float>::infinity();
          for (int u = 0; u < k; ++u)
            for (int v = 0; v < k; ++v) m = std::max(m, in.at(b, y * k + u, x * k + v, ch));
          out.at(b, y, x, ch) = m;
        }
}

}  // namespace hwnas
