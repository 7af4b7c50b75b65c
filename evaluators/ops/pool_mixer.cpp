#include "evaluators/ops/pool_mixer.h"

#include "evaluators/ops/avg_pool_exclude_pad.h"
#include "evaluators/runtime/parallel.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace hwnas {

namespace {

// N floats in registers (16: one AVX-512 register), loaded and stored unaligned.
// (An alias template would drop the attribute, and Lanes<N> would be a plain float.)
template <int N>
struct LanesOf {
  typedef float type __attribute__((vector_size(N * sizeof(float))));
};
template <int N>
using Lanes = typename LanesOf<N>::type;
static_assert(sizeof(Lanes<16>) == 16 * sizeof(float) && sizeof(Lanes<8>) == 8 * sizeof(float));

// Out by reference: returning a 64-byte vector by value changes the ABI where the build has no
// AVX-512 (an AVX2 host), which GCC's -Wpsabi reports.
template <int N>
void load(Lanes<N>& v, const float* p) {
  std::memcpy(&v, p, sizeof v);
}

// Channels [c0, c0 + N) of one output pixel: its window [ya, yb] x [xa, xb] summed in a register.
template <int N>
void mix_lanes(const Tensor& in, const float* ls, int b, int ya, int yb, int xa, int xb, float inv,
               const float* xi, float* o, int c0) {
  Lanes<N> acc = {};
  for (int yy = ya; yy <= yb; ++yy)
    for (int xx = xa; xx <= xb; ++xx) {
      Lanes<N> x;
      load<N>(x, in.data() + in.index(b, yy, xx, c0));
      acc += x;
    }
  Lanes<N> xv, lv;
  load<N>(xv, xi + c0);
  load<N>(lv, ls + c0);
  const Lanes<N> out = xv + lv * (acc * inv - xv);
  std::memcpy(o + c0, &out, sizeof out);
}

}  // namespace

void pool_mixer_pixels(const PoolMixerParams& p, const Tensor& in, const float* ls, int b, int p0,
                       int p1, float* dst) {
  const int c = p.c, r = p.pool / 2, h = in.h(), w = in.w();
  // Groups of 16 channels, then one of 8, sum their window in a register. Summed into a memory
  // array, each load of a neighbour came after a store to the array, and where the heap put the
  // array at the page offset of the tile being written the loads waited on those stores (4K
  // aliasing): a 16x16x16 Meta4D ran 0.040 ms against 0.026 now.
  const int full16 = c / 16 * 16, full = c / 8 * 8;
  thread_local std::vector<float> sum;
  if (sum.size() < static_cast<std::size_t>(c)) sum.resize(static_cast<std::size_t>(c));
  float* s = sum.data();
  for (int pix = p0; pix < p1; ++pix) {
    const int y = pix / w, x = pix % w;
    const int ya = std::max(0, y - r), yb = std::min(h - 1, y + r);
    const int xa = std::max(0, x - r), xb = std::min(w - 1, x + r);
    const float inv = 1.0f / static_cast<float>((yb - ya + 1) * (xb - xa + 1));
    const float* xi = in.data() + in.index(b, y, x, 0);
    float* o = dst + static_cast<std::size_t>(pix - p0) * c;
    for (int c0 = 0; c0 < full16; c0 += 16)
      mix_lanes<16>(in, ls, b, ya, yb, xa, xb, inv, xi, o, c0);
    if (full16 < full) mix_lanes<8>(in, ls, b, ya, yb, xa, xb, inv, xi, o, full16);
    if (full == c) continue;
    std::fill(s + full, s + c, 0.0f);
    for (int yy = ya; yy <= yb; ++yy)
      for (int xx = xa; xx <= xb; ++xx) {
        const float* src = in.data() + in.index(b, yy, xx, 0);
        for (int ch = full; ch < c; ++ch) s[ch] += src[ch];
      }
    for (int ch = full; ch < c; ++ch) o[ch] = xi[ch] + ls[ch] * (s[ch] * inv - xi[ch]);
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
