#include "evaluators/ops/conv2d.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "evaluators/ops/gemm.h"
#include "evaluators/runtime/parallel.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {

namespace {

// Rows of the im2col matrix for output pixels [p0, p1) of image b: (ky, kx, cin) per row,
// zeros where the window leaves the image. In NHWC a window row (one ky, every kx) is one
// contiguous run of kernel * cin floats, so away from the left and right borders it is copied
// whole: per-tap copies of 3 floats (RGB stems) made im2col 8 % of ElasticViT-T1's int8 pass.
void im2col(const Conv2dParams& p, const Tensor& in, int b, int p0, int p1, int wo, float* dst) {
  const int run = p.kernel * p.cin;
  const auto copy = [](const float* src, float* out, int n) {
    // A loop, not memcpy: the runs are a few floats, where the library call costs more.
    for (int e = 0; e < n; ++e) out[e] = src[e];
  };
  for (int pix = p0; pix < p1; ++pix) {
    const int oy = pix / wo, ox = pix % wo;
    const int ix0 = ox * p.stride - p.pad;
    const bool inside_x = ix0 >= 0 && ix0 + p.kernel <= in.w();
    for (int ky = 0; ky < p.kernel; ++ky, dst += run) {
      const int iy = oy * p.stride - p.pad + ky;
      if (iy < 0 || iy >= in.h()) {
        std::fill(dst, dst + run, 0.0f);
      } else if (inside_x) {
        copy(in.data() + in.index(b, iy, ix0, 0), dst, run);
      } else {
        for (int kx = 0; kx < p.kernel; ++kx) {
          const int ix = ix0 + kx;
          float* tap = dst + kx * p.cin;
          if (ix < 0 || ix >= in.w())
            std::fill(tap, tap + p.cin, 0.0f);
          else
            copy(in.data() + in.index(b, iy, ix, 0), tap, p.cin);
        }
      }
    }
  }
}

}  // namespace

void conv2d(const Conv2dParams& p, const Tensor& in, const PackedWeights& weight, const float* bias,
            Tensor& out) {
  validate(p, in, out);
  if (weight.k() != p.kernel * p.kernel * p.cin || weight.n() != p.cout)
    throw Error("conv2d: packed weights are " + std::to_string(weight.k()) + "x" +
                std::to_string(weight.n()) + ", expected (k*k*cin)x(cout)");
  const GemmEpilogue ep{bias, p.act, nullptr, 0};
  if (p.kernel == 1 && p.stride == 1 && p.pad == 0) {
    const int m = in.n() * in.h() * in.w();
    gemm_packed(m, in.data(), p.cin, weight, out.data(), p.cout, ep);
    return;
  }
  const int ho = out.h(), wo = out.w(), k = p.kernel * p.kernel * p.cin;
  const int per_image = ho * wo;
  const long pixels = static_cast<long>(in.n()) * per_image;
  const int threads = engine_threads();
  if (pixels < 128L * threads) {
    // Few output pixels, many channels (late downsamples): one im2col, then a GEMM split over
    // output channels so the threads share the weight reads.
    thread_local std::vector<float> cols;
    if (cols.size() < static_cast<std::size_t>(pixels) * k)
      cols.resize(static_cast<std::size_t>(pixels) * k);
    for (int b = 0; b < in.n(); ++b)
      im2col(p, in, b, 0, per_image, wo, cols.data() + static_cast<std::size_t>(b) * per_image * k);
    gemm_packed(static_cast<int>(pixels), cols.data(), k, weight, out.data(), p.cout, ep);
    return;
  }
  // Equal pixel tiles of about 256 (the im2col tile and the weights stay in L2), a multiple of
  // the thread count.
  const int want = static_cast<int>((pixels + 255) / 256);
  const int tiles_total = (want + threads - 1) / threads * threads;
  const int tiles = std::max(1, tiles_total / in.n());
  const int size = (per_image + tiles - 1) / tiles;
  parallel_for(0, in.n() * tiles, 1, [&](int lo, int hi) {
    thread_local std::vector<float> cols;
    for (int t = lo; t < hi; ++t) {
      const int b = t / tiles, p0 = (t % tiles) * size, p1 = std::min(per_image, p0 + size);
      if (p0 >= p1) continue;
      const int m = p1 - p0;
      if (cols.size() < static_cast<std::size_t>(m) * k)
        cols.resize(static_cast<std::size_t>(m) * k);
      im2col(p, in, b, p0, p1, wo, cols.data());
      gemm_packed_serial(m, cols.data(), k, weight,
                         out.data() + (static_cast<long>(b) * per_image + p0) * p.cout, p.cout, ep);
    }
  });
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
              const float* wrow =
                  weight + ((static_cast<long>(ky) * p.kernel + kx) * p.cin + ci) * p.cout;
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
