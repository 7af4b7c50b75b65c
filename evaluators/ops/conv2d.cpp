#include "evaluators/ops/conv2d.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include <tbb/blocked_range2d.h>
#include <tbb/parallel_for.h>

#include "evaluators/ops/gemm.h"

namespace hwnas {

void conv2d(const Conv2dParams& p, const Tensor& in, const float* weight, const float* bias,
            Tensor& out) {
#if HWNAS_REFERENCE_KERNELS
  conv2d_reference(p, in, weight, bias, out);
#else
  validate(p, in, out);
  const GemmEpilogue ep{bias, p.act, nullptr, 0};
  if (p.kernel == 1 && p.stride == 1 && p.pad == 0) {
    const int m = in.n() * in.h() * in.w();
    gemm(m, p.cout, p.cin, in.data(), p.cin, weight, p.cout, out.data(), p.cout, ep);
    return;
  }
  const int ho = out.h(), wo = out.w(), k = p.kernel * p.kernel * p.cin;
  // Output-row tiles of about 256 pixels: the im2col block (256 x k) and the weight stay in L2.
  const int rows = std::max(1, std::min(ho, 256 / std::max(1, wo)));
  tbb::parallel_for(
      tbb::blocked_range2d<int>(0, in.n(), 1, 0, (ho + rows - 1) / rows, 1),
      [&](const tbb::blocked_range2d<int>& r) {
        thread_local std::vector<float> cols;
        for (int b = r.rows().begin(); b < r.rows().end(); ++b) {
          for (int t = r.cols().begin(); t < r.cols().end(); ++t) {
            const int y0 = t * rows, y1 = std::min(ho, y0 + rows);
            const int m = (y1 - y0) * wo;
            if (cols.size() < static_cast<std::size_t>(m) * k) cols.resize(static_cast<std::size_t>(m) * k);
            float* dst = cols.data();
            for (int oy = y0; oy < y1; ++oy) {
              for (int ox = 0; ox < wo; ++ox) {
                for (int ky = 0; ky < p.kernel; ++ky) {
                  const int iy = oy * p.stride - p.pad + ky;
                  for (int kx = 0; kx < p.kernel; ++kx) {
                    const int ix = ox * p.stride - p.pad + kx;
                    if (iy < 0 || iy >= in.h() || ix < 0 || ix >= in.w()) {
                      std::memset(dst, 0, sizeof(float) * p.cin);
                    } else {
                      std::memcpy(dst, in.data() + in.index(b, iy, ix, 0), sizeof(float) * p.cin);
                    }
                    dst += p.cin;
                  }
                }
              }
            }
            gemm_serial(m, p.cout, k, cols.data(), k, weight, p.cout,
                        out.data() + out.index(b, y0, 0, 0), p.cout, ep);
          }
        }
      });
#endif
}

void conv2d_reference(const Conv2dParams& p, const Tensor& in, const float* weight,
                      const float* bias, Tensor& out) {
  validate(p, in, out);
  std::vector<double> acc(static_cast<std::size_t>(p.cout));
  for (int b = 0; b < in.n(); ++b)
    for (int oy = 0; oy < out.h(); ++oy)
      for (int ox = 0; ox < out.w(); ++ox) {
        for (int co = 0; co < p.cout; ++co) acc[co] = bias ? bias[co] : 0.0;
        for (int ky = 0; ky < p.kernel; ++ky)
          for (int kx = 0; kx < p.kernel; ++kx) {
            const int iy = oy * p.stride - p.pad + ky, ix = ox * p.stride - p.pad + kx;
            if (iy < 0 || iy >= in.h() || ix < 0 || ix >= in.w()) continue;
            for (int ci = 0; ci < p.cin; ++ci) {
              const double v = in.at(b, iy, ix, ci);
              const float* wrow = weight + ((static_cast<long>(ky) * p.kernel + kx) * p.cin + ci) * p.cout;
              for (int co = 0; co < p.cout; ++co) acc[co] += v * wrow[co];
            }
          }
        for (int co = 0; co < p.cout; ++co) {
          float f = static_cast<float>(acc[co]);
          apply_activation_reference(p.act, &f, 1);
          out.at(b, oy, ox, co) = f;
        }
      }
}

}  // namespace hwnas
