#include "evaluators/ops/batch_norm.h"

#include <cmath>

#include "spaces/error.h"

namespace hwnas {

BatchStats batch_norm_train(const Tensor& in, const float* gamma, const float* beta, float eps,
                            Tensor& out) {
  if (in.n() != out.n() || in.h() != out.h() || in.w() != out.w() || in.c() != out.c())
    throw Error("batch_norm_train: input and output shapes differ");
  const int c = in.c();
  const std::size_t rows = static_cast<std::size_t>(in.n()) * in.h() * in.w();
  if (rows < 2) throw Error("batch_norm_train: needs at least 2 values per channel (N*H*W >= 2)");
  BatchStats s{std::vector<double>(c, 0.0), std::vector<double>(c, 0.0)};
  const float* x = in.data();
  for (std::size_t r = 0; r < rows; ++r)
    for (int ch = 0; ch < c; ++ch) s.mean[ch] += x[r * c + ch];
  for (int ch = 0; ch < c; ++ch) s.mean[ch] /= static_cast<double>(rows);
  std::vector<double> ss(c, 0.0);
  for (std::size_t r = 0; r < rows; ++r)
    for (int ch = 0; ch < c; ++ch) {
      const double d = x[r * c + ch] - s.mean[ch];
      ss[ch] += d * d;
    }
  std::vector<double> scale(c);
  for (int ch = 0; ch < c; ++ch) {
    const double biased = ss[ch] / static_cast<double>(rows);
    s.var_unbiased[ch] = ss[ch] / static_cast<double>(rows - 1);
    scale[ch] = gamma[ch] / std::sqrt(biased + eps);
  }
  float* y = out.data();
  for (std::size_t r = 0; r < rows; ++r)
    for (int ch = 0; ch < c; ++ch)
      y[r * c + ch] = static_cast<float>((x[r * c + ch] - s.mean[ch]) * scale[ch] + beta[ch]);
  return s;
}

}  // namespace hwnas
