#include "evaluators/ops/pool_mixer.h"

#include "evaluators/ops/avg_pool_exclude_pad.h"
#include "evaluators/runtime/parallel.h"

#include <algorithm>
#include <vector>

namespace hwnas {

void pool_mixer_pixels(const PoolMixerParams& p, const Tensor& in, const float* ls, int b, int p0,
                       int p1, float* dst) {
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
    float* o = dst + static_cast<std::size_t>(pix - p0) * c;
    for (int ch = 0; ch < c; ++ch) o[ch] = xi[ch] + ls[ch] * (s[ch] * inv - xi[ch]);
  }
}

void pool_mixer(const PoolMixerParams& p, const Tensor& in, const float* ls, Tensor& out) {
#if HWNAS_REFERENCE_KERNELS
  pool_mixer_reference(p, in, ls, out);
#else
  validate(p, in, out);
  // Chunks of image rows over the whole batch; a chunk may span two images.
  const int h = in.h();
  parallel_for(0, in.n() * h, 2, [&](int lo, int hi) {
    for (int row = lo; row < hi;) {
      const int b = row / h, y0 = row % h, y1 = std::min(h, y0 + (hi - row));
      pool_mixer_pixels(p, in, ls, b, y0 * in.w(), y1 * in.w(),
                        out.data() + out.index(b, y0, 0, 0));
      row += y1 - y0;
    }
  });
#endif
}

void pool_mixer_reference(const PoolMixerParams& p, const Tensor& in, const float* ls,
                          Tensor& out) {
  validate(p, in, out);
  Tensor pooled(in.n(), in.h(), in.w(), in.c());
  avg_pool_exclude_pad_reference(p, in, pooled);
  for (std::size_t i = 0; i < in.size(); ++i) {
    const double v = in.data()[i];
    out.data()[i] =
        static_cast<float>(v + static_cast<double>(ls[i % p.c]) * (pooled.data()[i] - v));
  }
}

}  // namespace hwnas
