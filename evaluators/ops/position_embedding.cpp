#include "evaluators/ops/position_embedding.h"

#include <string>

#include "core/error.h"

namespace hwnas {

namespace {
void check(const Tensor& in, const Tensor& out) {
  if (in.n() != out.n() || in.h() != out.h() || in.w() != out.w() || in.c() != out.c())
    throw Error("add_position_embedding: output must have the input's shape (" +
                std::to_string(in.n()) + "," + std::to_string(in.h()) + "," +
                std::to_string(in.w()) + "," + std::to_string(in.c()) + ")");
}
}  // namespace

void add_position_embedding(const Tensor& in, const float* pos, Tensor& out) {
#if HWNAS_REFERENCE_KERNELS
  add_position_embedding_reference(in, pos, out);
#else
  check(in, out);
  const std::size_t per = in.size() / static_cast<std::size_t>(in.n());
  for (int b = 0; b < in.n(); ++b) {
    const float* x = in.data() + b * per;
    float* o = out.data() + b * per;
    for (std::size_t i = 0; i < per; ++i) o[i] = x[i] + pos[i];
  }
#endif
}

void add_position_embedding_reference(const Tensor& in, const float* pos, Tensor& out) {
  check(in, out);
  for (int b = 0; b < in.n(); ++b)
    for (int y = 0; y < in.h(); ++y)
      for (int x = 0; x < in.w(); ++x)
        for (int ch = 0; ch < in.c(); ++ch)
          out.at(b, y, x, ch) =
              static_cast<float>(static_cast<double>(in.at(b, y, x, ch)) +
                                 pos[(static_cast<std::size_t>(y) * in.w() + x) * in.c() + ch]);
}

}  // namespace hwnas
