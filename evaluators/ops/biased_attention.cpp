#include "evaluators/ops/biased_attention.h"

#include <cmath>
#include <vector>

#include "evaluators/ops/eigen.h"

#include "evaluators/ops/softmax.h"
#include "evaluators/runtime/parallel.h"

namespace hwnas {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;
using MutMap = Eigen::Map<RowMat, 0, Eigen::OuterStride<>>;
}  // namespace

void biased_attention(const BiasedAttentionParams& p, const Tensor& qk, const Tensor& v,
                      const float* bias, Tensor& out) {
#if HWNAS_REFERENCE_KERNELS
  biased_attention_reference(p, qk, v, bias, out);
#else
  validate(p, qk, v, out);
  const int n = p.n, wqk = p.qk_width(), wv = p.v_width();
  const float scale = 1.0f / std::sqrt(static_cast<float>(p.kd));
  parallel_for(0, qk.n() * p.heads, 1, [&](int lo, int hi) {
    thread_local std::vector<float> logits;
    if (logits.size() < static_cast<std::size_t>(n) * n)
      logits.resize(static_cast<std::size_t>(n) * n);
    for (int t = lo; t < hi; ++t) {
      const int b = t / p.heads, head = t % p.heads;
      const float* qbase = qk.data() + static_cast<long>(b) * n * wqk + head * 2 * p.kd;
      ConstMap q(qbase, n, p.kd, Eigen::OuterStride<>(wqk));
      ConstMap k(qbase + p.kd, n, p.kd, Eigen::OuterStride<>(wqk));
      ConstMap vh(v.data() + static_cast<long>(b) * n * wv + head * p.dv, n, p.dv,
                  Eigen::OuterStride<>(wv));
      MutMap s(logits.data(), n, n, Eigen::OuterStride<>(n));
      s.noalias() = q * k.transpose();
      const Eigen::Map<const RowMat> hb(bias + static_cast<long>(head) * n * n, n, n);
      s = s * scale + hb;
      softmax_rows(logits.data(), n, n, n);
      MutMap o(out.data() + static_cast<long>(b) * n * wv + head * p.dv, n, p.dv,
               Eigen::OuterStride<>(wv));
      o.noalias() = s * vh;
    }
  });
#endif
}

void biased_attention_reference(const BiasedAttentionParams& p, const Tensor& qk, const Tensor& v,
                                const float* bias, Tensor& out) {
  validate(p, qk, v, out);
  const int n = p.n, wqk = p.qk_width(), wv = p.v_width();
  const double scale = 1.0 / std::sqrt(static_cast<double>(p.kd));
  std::vector<float> logits(static_cast<std::size_t>(n) * n);
  for (int b = 0; b < qk.n(); ++b)
    for (int head = 0; head < p.heads; ++head) {
      const float* qbase = qk.data() + static_cast<long>(b) * n * wqk + head * 2 * p.kd;
      const float* vbase = v.data() + static_cast<long>(b) * n * wv + head * p.dv;
      const float* hb = bias + static_cast<long>(head) * n * n;
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
          double dot = 0;
          for (int d = 0; d < p.kd; ++d)
            dot += static_cast<double>(qbase[static_cast<long>(i) * wqk + d]) *
                   qbase[static_cast<long>(j) * wqk + p.kd + d];
          logits[static_cast<std::size_t>(i) * n + j] =
              static_cast<float>(dot * scale + hb[static_cast<long>(i) * n + j]);
        }
      softmax_rows_reference(logits.data(), n, n, n);
      for (int i = 0; i < n; ++i)
        for (int d = 0; d < p.dv; ++d) {
          double acc = 0;
          for (int j = 0; j < n; ++j)
            acc += static_cast<double>(logits[static_cast<std::size_t>(i) * n + j]) *
                   vbase[static_cast<long>(j) * wv + d];
          out.data()[(static_cast<long>(b) * n + i) * wv + head * p.dv + d] =
              static_cast<float>(acc);
        }
    }
}

}  // namespace hwnas
