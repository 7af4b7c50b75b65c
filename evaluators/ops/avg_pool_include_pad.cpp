#include "evaluators/ops/avg_pool_include_pad.h"

#include <algorithm>

#include "evaluators/runtime/parallel.h"

namespace hwnas {

void avg_pool_include_pad(const AvgPoolIncludePadParams& p, const Tensor& in, Tensor& out) {
#if HWNAS_REFERENCE_KERNELS
  avg_pool_include_pad_reference(p, in, out);
#else
  validate(p, in, out);
  const int c = p.c, ho = out.h(), wo = out.w();
  const float inv = 1.0f / static_cast<float>(p.kernel * p.kernel);
  parallel_for(0, in.n() * ho, 4, [&](int lo, int hi) {
    for (int row = lo; row < hi; ++row) {
      const int b = row / ho, oy = row % ho;
      for (int ox = 0; ox < wo; ++ox) {
        float* o = out.data() + out.index(b, oy, ox, 0);
        std::fill(o, o + c, 0.0f);
        for (int ky = 0; ky < p.kernel; ++ky) {
          const int iy = oy * p.stride - p.pad + ky;
          if (iy < 0 || iy >= in.h()) continue;
          for (int kx = 0; kx < p.kernel; ++kx) {
            const int ix = ox * p.stride - p.pad + kx;
            if (ix < 0 || ix >= in.w()) continue;
            const float* src = in.data() + in.index(b, iy, ix, 0);
            for (int ch = 0; ch < c; ++ch) o[ch] += src[ch];
          }
        }
        for (int ch = 0; ch < c; ++ch) o[ch] *= inv;
      }
    }
  });
#endif
}

void avg_pool_include_pad_reference(const AvgPoolIncludePadParams& p, const Tensor& in,
                                    Tensor& out) {
  validate(p, in, out);
  for (int b = 0; b < in.n(); ++b)
    for (int oy = 0; oy < out.h(); ++oy)
      for (int ox = 0; ox < out.w(); ++ox)
        for (int ch = 0; ch < p.c; ++ch) {
          double sum = 0;
          for (int ky = 0; ky < p.kernel; ++ky)
            for (int kx = 0; kx < p.kernel; ++kx) {
              const int iy = oy * p.stride - p.pad + ky, ix = ox * p.stride - p.pad + kx;
              if (iy >= 0 && iy < in.h() && ix >= 0 && ix < in.w()) sum += in.at(b, iy, ix, ch);
            }
          out.at(b, oy, ox, ch) = static_cast<float>(sum / (p.kernel * p.kernel));
        }
}

}  // namespace hwnas
