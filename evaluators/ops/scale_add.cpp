#include "evaluators/ops/scale_add.h"

#include <algorithm>
#include <vector>

#include "core/error.h"

namespace hwnas {

namespace {
void check_add(const Tensor& x, const Tensor& y, const Tensor& out) {
  if (x.size() != y.size() || x.size() != out.size() || x.c() != y.c())
    throw Error("scale_add: x, y and out must have the same shape");
}
}  // namespace

void scale_add(const Tensor& x, const float* gamma, const Tensor& y, Tensor& out) {
#if HWNAS_REFERENCE_KERNELS
  scale_add_reference(x, gamma, y, out);
#else
  check_add(x, y, out);
  const std::size_t rows = x.size() / static_cast<std::size_t>(x.c());
  const int c = x.c();
  for (std::size_t r = 0; r < rows; ++r) {
    const float* a = x.data() + r * c;
    const float* b = y.data() + r * c;
    float* o = out.data() + r * c;
    for (int ch = 0; ch < c; ++ch) o[ch] = a[ch] + gamma[ch] * b[ch];
  }
#endif
}

void scale_add_reference(const Tensor& x, const float* gamma, const Tensor& y, Tensor& out) {
  check_add(x, y, out);
  const int c = x.c();
  for (std::size_t i = 0; i < x.size(); ++i)
    out.data()[i] = static_cast<float>(static_cast<double>(x.data()[i]) +
                                       static_cast<double>(gamma[i % c]) * y.data()[i]);
}

}  // namespace hwnas
