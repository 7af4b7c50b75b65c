#include "evaluators/ops/batch_norm.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "evaluators/runtime/parallel.h"

namespace hwnas {

namespace {

// Rows per partial sum: fixed, so the summation order (and the result) does not depend on the
// number of threads.
constexpr std::size_t kChunk = 2048;

// Per-channel sums over rows of f(x, channel), computed per chunk in parallel and added up in
// chunk order.
template <class F>
std::vector<double> channel_sums(const float* x, std::size_t rows, int c, F f) {
  const int chunks = static_cast<int>((rows + kChunk - 1) / kChunk);
  std::vector<double> partial(static_cast<std::size_t>(chunks) * c, 0.0);
  parallel_for(0, chunks, 1, [&](int lo, int hi) {
    for (int k = lo; k < hi; ++k) {
      double* p = partial.data() + static_cast<std::size_t>(k) * c;
      const std::size_t end = std::min(rows, (k + 1) * kChunk);
      for (std::size_t r = k * kChunk; r < end; ++r)
        for (int ch = 0; ch < c; ++ch) p[ch] += f(x[r * c + ch], ch);
    }
  });
  std::vector<double> sum(c, 0.0);
  for (int k = 0; k < chunks; ++k)
    for (int ch = 0; ch < c; ++ch) sum[ch] += partial[static_cast<std::size_t>(k) * c + ch];
  return sum;
}

}  // namespace

BatchStats batch_norm_train(const Tensor& in, const float* gamma, const float* beta, float eps,
                            Tensor& out) {
  if (in.n() != out.n() || in.h() != out.h() || in.w() != out.w() || in.c() != out.c())
    throw Error("batch_norm_train: input and output shapes differ");
  const int c = in.c();
  const std::size_t rows = static_cast<std::size_t>(in.n()) * in.h() * in.w();
  if (rows < 2) throw Error("batch_norm_train: needs at least 2 values per channel (N*H*W >= 2)");
  const float* x = in.data();
  BatchStats s{channel_sums(x, rows, c, [](float v, int) { return double{v}; }),
               std::vector<double>(c, 0.0)};
  for (int ch = 0; ch < c; ++ch) s.mean[ch] /= static_cast<double>(rows);
  // Two passes (mean, then squared deviations): no cancellation for channels far from zero.
  const std::vector<double> ss = channel_sums(x, rows, c, [&](float v, int ch) {
    const double d = v - s.mean[ch];
    return d * d;
  });
  std::vector<double> scale(c);
  for (int ch = 0; ch < c; ++ch) {
    const double biased = ss[ch] / static_cast<double>(rows);
    s.var_unbiased[ch] = ss[ch] / static_cast<double>(rows - 1);
    scale[ch] = gamma[ch] / std::sqrt(biased + eps);
  }
  float* y = out.data();
  const int chunks = static_cast<int>((rows + kChunk - 1) / kChunk);
  parallel_for(0, chunks, 1, [&](int lo, int hi) {
    const std::size_t end = std::min(rows, hi * kChunk);
    for (std::size_t r = lo * kChunk; r < end; ++r)
      for (int ch = 0; ch < c; ++ch)
        y[r * c + ch] = static_cast<float>((x[r * c + ch] - s.mean[ch]) * scale[ch] + beta[ch]);
  });
  return s;
}

}  // namespace hwnas
