#include "evaluators/ops/squeeze_excite.h"

#include <algorithm>
#include <vector>

#include "evaluators/runtime/parallel.h"

namespace hwnas {

void squeeze_excite(const SqueezeExciteParams& p, Tensor& x, const float* w1, const float* b1,
                    const float* w2, const float* b2) {
#if HWNAS_REFERENCE_KERNELS
  squeeze_excite_reference(p, x, w1, b1, w2, b2);
#else
  validate(p, x);
  const int c = p.c, r = p.reduced, hw = x.h() * x.w();
  thread_local std::vector<float> mean, s, g;
  mean.resize(c);
  s.resize(r);
  g.resize(c);
  for (int b = 0; b < x.n(); ++b) {
    float* base = x.data() + static_cast<long>(b) * hw * c;
    // The gate is a few hundred floats: pooling and the two small products stay on this thread
    // with channel-contiguous (vectorisable) inner loops; the rescale runs in parallel.
    std::fill(mean.begin(), mean.end(), 0.0f);
    for (int t = 0; t < hw; ++t) {
      const float* row = base + static_cast<long>(t) * c;
      for (int ch = 0; ch < c; ++ch) mean[ch] += row[ch];
    }
    const float inv = 1.0f / static_cast<float>(hw);
    std::copy(b1, b1 + r, s.begin());
    for (int ch = 0; ch < c; ++ch) {
      const float m = mean[ch] * inv;
      const float* wr = w1 + static_cast<long>(ch) * r;
      for (int j = 0; j < r; ++j) s[j] += m * wr[j];
    }
    std::copy(b2, b2 + c, g.begin());
    for (int j = 0; j < r; ++j) {
      const float sj = std::max(s[j], 0.0f);
      const float* wr = w2 + static_cast<long>(j) * c;
      for (int ch = 0; ch < c; ++ch) g[ch] += sj * wr[ch];
    }
    for (int ch = 0; ch < c; ++ch) g[ch] = std::clamp(g[ch] + 3.0f, 0.0f, 6.0f) * (1.0f / 6.0f);
    const float* gate = g.data();
    parallel_for(0, hw, 64, [&](int lo, int hi) {
      for (int t = lo; t < hi; ++t) {
        float* row = base + static_cast<long>(t) * c;
        for (int ch = 0; ch < c; ++ch) row[ch] *= gate[ch];
      }
    });
  }
#endif
}

void squeeze_excite_reference(const SqueezeExciteParams& p, Tensor& x, const float* w1,
                              const float* b1, const float* w2, const float* b2) {
  validate(p, x);
  const int c = p.c, r = p.reduced, hw = x.h() * x.w();
  std::vector<double> mean(c), s(r), g(c);
  for (int b = 0; b < x.n(); ++b) {
    float* base = x.data() + static_cast<long>(b) * hw * c;
    std::fill(mean.begin(), mean.end(), 0.0);
    for (int t = 0; t < hw; ++t)
      for (int ch = 0; ch < c; ++ch) mean[ch] += base[static_cast<long>(t) * c + ch];
    for (auto& m : mean) m /= hw;
    for (int j = 0; j < r; ++j) {
      double acc = b1[j];
      for (int ch = 0; ch < c; ++ch) acc += mean[ch] * w1[static_cast<long>(ch) * r + j];
      s[j] = std::max(acc, 0.0);
    }
    for (int ch = 0; ch < c; ++ch) {
      double acc = b2[ch];
      for (int j = 0; j < r; ++j) acc += s[j] * w2[static_cast<long>(j) * c + ch];
      g[ch] = std::clamp(acc + 3.0, 0.0, 6.0) / 6.0;
    }
    for (int t = 0; t < hw; ++t)
      for (int ch = 0; ch < c; ++ch) {
        float& v = base[static_cast<long>(t) * c + ch];
        v = static_cast<float>(v * g[ch]);
      }
  }
}

}  // namespace hwnas
