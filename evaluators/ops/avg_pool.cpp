#include "evaluators/ops/avg_pool.h"

#include <algorithm>
#include <vector>

#include "evaluators/parallel.h"

namespace hwnas {

void avg_pool(const PoolMixerParams& p, const Tensor& in, Tensor& out) {
#if HWNAS_REFERENCE_KERNELS
  avg_pool_reference(p, in, out);
#else
  validate(p, in, out);
  const int r = p.pool / 2, h = in.h(), w = in.w(), c = p.c;
  parallel_for(0, in.n() * h, 2, [&](int lo, int hi) {
    for (int row = lo; row < hi; ++row) {
      const int b = row / h, y = row % h;
      const int ya = std::max(0, y - r), yb = std::min(h - 1, y + r);
      for (int x = 0; x < w; ++x) {
        const int xa = std::max(0, x - r), xb = std::min(w - 1, x + r);
        float* o = out.data() + out.index(b, y, x, 0);
        std::fill(o, o + c, 0.0f);
        for (int yy = ya; yy <= yb; ++yy)
          for (int xx = xa; xx <= xb; ++xx) {
            const float* src = in.data() + in.index(b, yy, xx, 0);
            for (int ch = 0; ch < c; ++ch) o[ch] += src[ch];
          }
        const float inv = 1.0f / static_cast<float>((yb - ya + 1) * (xb - xa + 1));
        for (int ch = 0; ch < c; ++ch) o[ch] *= inv;
      }
    }
  });
#endif
}

void avg_pool_reference(const PoolMixerParams& p, const Tensor& in, Tensor& out) {
  validate(p, in, out);
  const int r = p.pool / 2;
  for (int b = 0; b < in.n(); ++b)
    for (int y = 0; y < in.h(); ++y)
      for (int x = 0; x < in.w(); ++x)
        for (int ch = 0; ch < p.c; ++ch) {
          double sum = 0;
          int count = 0;
          for (int dy = -r; dy <= r; ++dy)
            for (int dx = -r; dx <= r; ++dx) {
              const int yy = y + dy, xx = x + dx;
              if (yy < 0 || yy >= in.h() || xx < 0 || xx >= in.w()) continue;
              sum += in.at(b, yy, xx, ch);
              ++count;
            }
          out.at(b, y, x, ch) = static_cast<float>(sum / count);
        }
}

}  // namespace hwnas
