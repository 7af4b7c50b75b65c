#include "evaluators/ops/mean_tokens.h"

#include <algorithm>
#include <vector>

#include "core/error.h"

namespace hwnas {

namespace {
void check_mean(const Tensor& in, const Tensor& out) {
  if (out.n() != in.n() || out.h() * out.w() != 1 || out.c() != in.c() || in.h() * in.w() == 0)
    throw Error("mean_tokens: output must be (B,1,1,c) for a non-empty input");
}
}  // namespace

void mean_tokens(const Tensor& in, Tensor& out) {
#if HWNAS_REFERENCE_KERNELS
  mean_tokens_reference(in, out);
#else
  check_mean(in, out);
  const int n = in.h() * in.w(), c = in.c();
  for (int b = 0; b < in.n(); ++b) {
    float* o = out.data() + static_cast<long>(b) * c;
    for (int ch = 0; ch < c; ++ch) o[ch] = 0;
    for (int t = 0; t < n; ++t) {
      const float* x = in.data() + (static_cast<long>(b) * n + t) * c;
      for (int ch = 0; ch < c; ++ch) o[ch] += x[ch];
    }
    const float inv = 1.0f / static_cast<float>(n);
    for (int ch = 0; ch < c; ++ch) o[ch] *= inv;
  }
#endif
}

void mean_tokens_reference(const Tensor& in, Tensor& out) {
  check_mean(in, out);
  const int n = in.h() * in.w(), c = in.c();
  std::vector<double> acc(static_cast<std::size_t>(c));
  for (int b = 0; b < in.n(); ++b) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int t = 0; t < n; ++t)
      for (int ch = 0; ch < c; ++ch) acc[ch] += in.data()[(static_cast<long>(b) * n + t) * c + ch];
    for (int ch = 0; ch < c; ++ch)
      out.data()[static_cast<long>(b) * c + ch] = static_cast<float>(acc[ch] / n);
  }
}

}  // namespace hwnas
