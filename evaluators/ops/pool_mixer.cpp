#include "evaluators/ops/pool_mixer.h"

#include <algorithm>
#include <vector>

#include <tbb/blocked_range2d.h>
#include <tbb/parallel_for.h>

namespace hwnas {

void pool_mixer_pixels(const PoolMixerParams& p, const Tensor& in, const float* ls, Tensor& out,
                       int b, int p0, int p1) {
  const int c = p.c, r = p.pool / 2, h = in.h(), w = in.w();
  thread_local std::vector<float> sum;
  if (sum.size() < static_cast<std::size_t>(c)) sum.resize(static_cast<std::size_t>(c));
  float* s = sum.data();
  for (int pix = p0; pix < p1; ++pix) {
    const int y = pix / w, x = pix % w;
    const int ya = std::max(0, y - r), yb = std::min(h - 1, y + r);
    const int xa = std::max(0, x - r), xb = std::min(w - 1, x + r);
    std::fill(s, s + c, 0.0f);
    for (int yy = ya; yy <= yb; ++yy)
      for (int xx = xa; xx <= xb; ++xx) {
        const float* src = in.data() + in.index(b, yy, xx, 0);
        for (int ch = 0; ch < c; ++ch) s[ch] += src[ch];
      }
    const float inv = 1.0f / static_cast<float>((yb - ya + 1) * (xb - xa + 1));
    const float* xi = in.data() + in.index(b, y, x, 0);
    float* o = out.data() + out.index(b, y, x, 0);
    for (int ch = 0; ch < c; ++ch) o[ch] = xi[ch] + ls[ch] * (s[ch] * inv - xi[ch]);
  }
}

void pool_mixer(const PoolMixerParams& p, const Tensor& in, const float* ls, Tensor& out) {
#if HWNAS_REFERENCE_KERNELS
  pool_mixer_reference(p, in, ls, out);
#else
  validate(p, in, out);
  tbb::parallel_for(tbb::blocked_range2d<int>(0, in.n(), 1, 0, in.h(), 2),
                    [&](const tbb::blocked_range2d<int>& rg) {
                      for (int b = rg.rows().begin(); b < rg.rows().end(); ++b)
                        pool_mixer_pixels(p, in, ls, out, b, rg.cols().begin() * in.w(),
                                          rg.cols().end() * in.w());
                    });
#endif
}

void pool_mixer_reference(const PoolMixerParams& p, const Tensor& in, const float* ls,
                          Tensor& out) {
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
          const double v = in.at(b, y, x, ch);
          out.at(b, y, x, ch) = static_cast<float>(v + ls[ch] * (sum / count - v));
        }
}

}  // namespace hwnas
