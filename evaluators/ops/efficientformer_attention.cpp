#include "evaluators/ops/efficientformer_attention.h"

#include <cmath>
#include <cstdlib>
#include <vector>

#include "evaluators/ops/eigen.h"

#include "evaluators/ops/softmax.h"
#include "evaluators/runtime/parallel.h"

namespace hwnas {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;
using MutMap = Eigen::Map<RowMat, 0, Eigen::OuterStride<>>;

inline int bias_index(const EfficientFormerAttentionParams& p, int i, int j) {
  const int yi = i / p.w, xi = i % p.w, yj = j / p.w, xj = j % p.w;
  return std::abs(yi - yj) * p.w + std::abs(xi - xj);
}
}  // namespace

void efficientformer_attention(const EfficientFormerAttentionParams& p, const Tensor& qkv,
                               const float* bias, Tensor& out) {
#if HWNAS_REFERENCE_KERNELS
  efficientformer_attention_reference(p, qkv, bias, out);
#else
  validate(p, qkv, out);
  const int n = p.h * p.w, wq = p.qkv_width(), wo = p.out_width(), per = 2 * p.kd + p.dv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(p.kd));
  parallel_for(0, qkv.n() * p.heads, 1, [&](int lo, int hi) {
    thread_local std::vector<float> logits;
    if (logits.size() < static_cast<std::size_t>(n) * n)
      logits.resize(static_cast<std::size_t>(n) * n);
    for (int t = lo; t < hi; ++t) {
      const int b = t / p.heads, head = t % p.heads;
      const float* base = qkv.data() + static_cast<long>(b) * n * wq + head * per;
      ConstMap q(base, n, p.kd, Eigen::OuterStride<>(wq));
      ConstMap k(base + p.kd, n, p.kd, Eigen::OuterStride<>(wq));
      ConstMap v(base + 2 * p.kd, n, p.dv, Eigen::OuterStride<>(wq));
      MutMap s(logits.data(), n, n, Eigen::OuterStride<>(n));
      s.noalias() = q * k.transpose();
      const float* hb = bias + static_cast<long>(head) * n;
      for (int i = 0; i < n; ++i) {
        float* row = logits.data() + static_cast<long>(i) * n;
        for (int j = 0; j < n; ++j) row[j] = row[j] * scale + hb[bias_index(p, i, j)];
      }
      softmax_rows(logits.data(), n, n, n);
      MutMap o(out.data() + static_cast<long>(b) * n * wo + head * p.dv, n, p.dv,
               Eigen::OuterStride<>(wo));
      o.noalias() = s * v;
    }
  });
#endif
}

void efficientformer_attention_reference(const EfficientFormerAttentionParams& p, const Tensor& qkv,
                                         const float* bias, Tensor& out) {
  validate(p, qkv, out);
  const int n = p.h * p.w, wq = p.qkv_width(), wo = p.out_width(), per = 2 * p.kd + p.dv;
  const double scale = 1.0 / std::sqrt(static_cast<double>(p.kd));
  std::vector<float> logits(static_cast<std::size_t>(n) * n);
  for (int b = 0; b < qkv.n(); ++b)
    for (int head = 0; head < p.heads; ++head) {
      const float* base = qkv.data() + static_cast<long>(b) * n * wq + head * per;
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
          double dot = 0;
          for (int d = 0; d < p.kd; ++d)
            dot += static_cast<double>(base[static_cast<long>(i) * wq + d]) *
                   base[static_cast<long>(j) * wq + p.kd + d];
          logits[static_cast<std::size_t>(i) * n + j] = static_cast<float>(
              dot * scale + bias[static_cast<long>(head) * n + bias_index(p, i, j)]);
        }
      softmax_rows_reference(logits.data(), n, n, n);
      for (int i = 0; i < n; ++i)
        for (int d = 0; d < p.dv; ++d) {
          double acc = 0;
          for (int j = 0; j < n; ++j)
            acc += static_cast<double>(logits[static_cast<std::size_t>(i) * n + j]) *
                   base[static_cast<long>(j) * wq + 2 * p.kd + d];
          out.data()[(static_cast<long>(b) * n + i) * wo + head * p.dv + d] =
              static_cast<float>(acc);
        }
    }
}

}  // namespace hwnas
