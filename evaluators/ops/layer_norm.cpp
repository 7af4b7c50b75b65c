#include "evaluators/ops/layer_norm.h"

#include <cmath>

#include "evaluators/runtime/parallel.h"

namespace hwnas {

void layer_norm_rows(const LayerNormParams& p, const float* in, const float* gamma,
                     const float* beta, float* out, int r0, int r1) {
  const int c = p.c;
  for (int r = r0; r < r1; ++r) {
    const float* x = in + static_cast<long>(r) * c;
    float* y = out + static_cast<long>(r) * c;
    // Two passes in float: the mean is removed before squaring, so no cancellation.
    float sum = 0;
    for (int i = 0; i < c; ++i) sum += x[i];
    const float mean = sum / static_cast<float>(c);
    float sq = 0;
    for (int i = 0; i < c; ++i) {
      const float d = x[i] - mean;
      sq += d * d;
    }
    const float inv = 1.0f / std::sqrt(sq / static_cast<float>(c) + p.eps);
    for (int i = 0; i < c; ++i) y[i] = (x[i] - mean) * inv * gamma[i] + beta[i];
  }
}

void layer_norm(const LayerNormParams& p, const Tensor& in, const float* gamma, const float* beta,
                Tensor& out) {
#if HWNAS_REFERENCE_KERNELS
  layer_norm_reference(p, in, gamma, beta, out);
#else
  validate(p, in, out);
  const int rows = static_cast<int>(in.size() / static_cast<std::size_t>(p.c));
  parallel_for(0, rows, 16, [&](int lo, int hi) {
    layer_norm_rows(p, in.data(), gamma, beta, out.data(), lo, hi);
  });
#endif
}

void layer_norm_reference(const LayerNormParams& p, const Tensor& in, const float* gamma,
                          const float* beta, Tensor& out) {
  validate(p, in, out);
  const int rows = static_cast<int>(in.size() / static_cast<std::size_t>(p.c));
  for (int r = 0; r < rows; ++r) {
    const float* x = in.data() + static_cast<long>(r) * p.c;
    float* y = out.data() + static_cast<long>(r) * p.c;
    double mean = 0, var = 0;
    for (int i = 0; i < p.c; ++i) mean += x[i];
    mean /= p.c;
    for (int i = 0; i < p.c; ++i) var += (x[i] - mean) * (x[i] - mean);
    var /= p.c;
    const double inv = 1.0 / std::sqrt(var + static_cast<double>(p.eps));
    for (int i = 0; i < p.c; ++i)
      y[i] = static_cast<float>((x[i] - mean) * inv * gamma[i] + beta[i]);
  }
}

}  // namespace hwnas
