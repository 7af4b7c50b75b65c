#include "evaluators/ops/avg_pool_exclude_pad.h"

namespace hwnas {

void avg_pool_exclude_pad_reference(const PoolMixerParams& p, const Tensor& in, Tensor& out) {
  validate(p, in, out);
  const int r = p.pool / 2;
  for (int b = 0; b < in.n(); ++b)
    for (int y = 0; y < in.h(); ++y)
      for (int x = 0; x < in.w(); ++x)
        for (int ch = 0; ch < p.c; ++ch) {
          double sum = 0;
          int count = 0;
          for (int dy = -r; dy <= r; ++dy)
            for (int dx = -r; dx <= r; ++dx) {
              const int yy = y + dy, xx = x + dx;
              if (yy < 0 || yy >= in.h() || xx < 0 || xx >= in.w()) continue;
              sum += in.at(b, yy, xx, ch);
              ++count;
            }
          out.at(b, y, x, ch) = static_cast<float>(sum / count);
        }
}

}  // namespace hwnas
