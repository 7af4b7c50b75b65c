#include "evaluators/ops/depthwise_conv2d.h"

#include <vector>

#include "evaluators/runtime/parallel.h"

namespace hwnas {

void depthwise_conv2d(const DepthwiseConv2dParams& p, const Tensor& in, const float* weight,
                      const float* bias, Tensor& out) {
#if HWNAS_REFERENCE_KERNELS
  depthwise_conv2d_reference(p, in, weight, bias, out);
#else
  validate(p, in, out);
  const int c = p.c, ho = out.h(), wo = out.w();
  parallel_for(0, in.n() * ho, 1, [&](int lo, int hi) {
    for (int row = lo; row < hi; ++row) {
      const int b = row / ho, oy = row % ho;
      for (int ox = 0; ox < wo; ++ox) {
        float* o = out.data() + out.index(b, oy, ox, 0);
        for (int ch = 0; ch < c; ++ch) o[ch] = bias ? bias[ch] : 0.0f;
        for (int ky = 0; ky < p.kernel; ++ky) {
          const int iy = oy * p.stride - p.pad + ky;
          if (iy < 0 || iy >= in.h()) continue;
          for (int kx = 0; kx < p.kernel; ++kx) {
            const int ix = ox * p.stride - p.pad + kx;
            if (ix < 0 || ix >= in.w()) continue;
            // Channels are contiguous in NHWC and in the (k,k,c) filter: this loop vectorises.
            const float* src = in.data() + in.index(b, iy, ix, 0);
            const float* wk = weight + (static_cast<long>(ky) * p.kernel + kx) * c;
            for (int ch = 0; ch < c; ++ch) o[ch] += src[ch] * wk[ch];
          }
        }
      }
      apply_activation(p.act, out.data() + out.index(b, oy, 0, 0),
                       static_cast<std::size_t>(wo) * c);
    }
  });
#endif
}

void depthwise_conv2d_reference(const DepthwiseConv2dParams& p, const Tensor& in,
                                const float* weight, const float* bias, Tensor& out) {
  validate(p, in, out);
  for (int b = 0; b < in.n(); ++b)
    for (int oy = 0; oy < out.h(); ++oy)
      for (int ox = 0; ox < out.w(); ++ox)
        for (int ch = 0; ch < p.c; ++ch) {
          double acc = bias ? bias[ch] : 0.0;
          for (int ky = 0; ky < p.kernel; ++ky)
            for (int kx = 0; kx < p.kernel; ++kx) {
              const int iy = oy * p.stride - p.pad + ky, ix = ox * p.stride - p.pad + kx;
              if (iy < 0 || iy >= in.h() || ix < 0 || ix >= in.w()) continue;
              acc += static_cast<double>(in.at(b, iy, ix, ch)) *
                     weight[(static_cast<long>(ky) * p.kernel + kx) * p.c + ch];
            }
          float f = static_cast<float>(acc);
          apply_activation_reference(p.act, &f, 1);
          out.at(b, oy, ox, ch) = f;
        }
}

}  // namespace hwnas
