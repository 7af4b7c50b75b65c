#include "evaluators/ops/window_attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "evaluators/ops/eigen.h"

#include "evaluators/ops/softmax.h"
#include "evaluators/runtime/parallel.h"

namespace hwnas {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MutMap = Eigen::Map<RowMat>;

// Window geometry shared by both kernels: wy x wx windows of sy x sx tokens (one global
// window when p.window == 0); q = 2 with Q-pooling, else 1.
struct Windows {
  int sy, sx, wy, wx, q;
  explicit Windows(const WindowAttentionParams& p)
      : sy(p.window ? p.window : p.h),
        sx(p.window ? p.window : p.w),
        wy(p.h / sy),
        wx(p.w / sx),
        q(p.qpool ? 2 : 1) {}
  int count() const { return wy * wx; }
  int keys() const { return sy * sx; }
  int queries() const { return keys() / (q * q); }
};
}  // namespace

void window_attention(const WindowAttentionParams& p, const Tensor& qkv, Tensor& out) {
#if HWNAS_REFERENCE_KERNELS
  window_attention_reference(p, qkv, out);
#else
  validate(p, qkv, out);
  const Windows g(p);
  const int d = p.head_dim, c = p.width(), nk = g.keys(), nq = g.queries();
  const int qsx = g.sx / g.q;  // query window width on the output map
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const int tasks = qkv.n() * g.count() * p.heads;
  parallel_for(0, tasks, 1, [&](int lo, int hi) {
    // Per-thread scratch: Q (nq x d), K, V (nk x d), logits (nq x nk), O (nq x d).
    thread_local std::vector<float> buf;
    const std::size_t need = static_cast<std::size_t>(nq) * d * 2 +
                             static_cast<std::size_t>(nk) * d * 2 +
                             static_cast<std::size_t>(nq) * nk;
    if (buf.size() < need) buf.resize(need);
    float* qb = buf.data();
    float* kb = qb + static_cast<std::size_t>(nq) * d;
    float* vb = kb + static_cast<std::size_t>(nk) * d;
    float* sb = vb + static_cast<std::size_t>(nk) * d;
    float* ob = sb + static_cast<std::size_t>(nq) * nk;
    for (int t = lo; t < hi; ++t) {
      const int head = t % p.heads, win = (t / p.heads) % g.count(), b = t / (p.heads * g.count());
      const int y0 = (win / g.wx) * g.sy, x0 = (win % g.wx) * g.sx;
      // Gather keys and values of the window, row-major inside it.
      for (int i = 0; i < nk; ++i) {
        const float* src = qkv.data() + qkv.index(b, y0 + i / g.sx, x0 + i % g.sx, head * d);
        std::copy(src + c, src + c + d, kb + static_cast<std::size_t>(i) * d);
        std::copy(src + 2 * c, src + 2 * c + d, vb + static_cast<std::size_t>(i) * d);
      }
      // Queries: max over each q x q group (Q-pooling), then scaled as timm does (q * scale).
      for (int i = 0; i < nq; ++i) {
        const int qy = i / qsx, qx = i % qsx;
        float* dst = qb + static_cast<std::size_t>(i) * d;
        const float* first = qkv.data() + qkv.index(b, y0 + qy * g.q, x0 + qx * g.q, head * d);
        std::copy(first, first + d, dst);
        for (int u = 0; u < g.q; ++u)
          for (int v = 0; v < g.q; ++v) {
            const float* src =
                qkv.data() + qkv.index(b, y0 + qy * g.q + u, x0 + qx * g.q + v, head * d);
            for (int k = 0; k < d; ++k) dst[k] = std::max(dst[k], src[k]);
          }
        for (int k = 0; k < d; ++k) dst[k] *= scale;
      }
      MutMap q(qb, nq, d), k(kb, nk, d), v(vb, nk, d), s(sb, nq, nk), o(ob, nq, d);
      s.noalias() = q * k.transpose();
      softmax_rows(sb, nq, nk, nk);
      o.noalias() = s * v;
      const int oy0 = y0 / g.q, ox0 = x0 / g.q;
      for (int i = 0; i < nq; ++i) {
        const float* src = ob + static_cast<std::size_t>(i) * d;
        std::copy(src, src + d, out.data() + out.index(b, oy0 + i / qsx, ox0 + i % qsx, head * d));
      }
    }
  });
#endif
}

void window_attention_reference(const WindowAttentionParams& p, const Tensor& qkv, Tensor& out) {
  validate(p, qkv, out);
  const Windows g(p);
  const int d = p.head_dim, c = p.width();
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  std::vector<double> qv(static_cast<std::size_t>(d)), logits(static_cast<std::size_t>(g.keys()));
  for (int b = 0; b < qkv.n(); ++b)
    for (int head = 0; head < p.heads; ++head)
      for (int y = 0; y < p.out_h(); ++y)
        for (int x = 0; x < p.out_w(); ++x) {
          for (int k = 0; k < d; ++k) {
            float m = qkv.at(b, y * g.q, x * g.q, head * d + k);
            for (int u = 0; u < g.q; ++u)
              for (int v = 0; v < g.q; ++v)
                m = std::max(m, qkv.at(b, y * g.q + u, x * g.q + v, head * d + k));
            qv[k] = m * scale;
          }
          // The window holding the (un-pooled) position of this query.
          const int y0 = (y * g.q / g.sy) * g.sy, x0 = (x * g.q / g.sx) * g.sx;
          double mx = -1e300;
          for (int j = 0; j < g.keys(); ++j) {
            double dot = 0;
            for (int k = 0; k < d; ++k)
              dot += qv[k] * qkv.at(b, y0 + j / g.sx, x0 + j % g.sx, c + head * d + k);
            logits[j] = dot;
            mx = std::max(mx, dot);
          }
          double den = 0;
          for (auto& l : logits) den += (l = std::exp(l - mx));
          for (int k = 0; k < d; ++k) {
            double acc = 0;
            for (int j = 0; j < g.keys(); ++j)
              acc += logits[j] * qkv.at(b, y0 + j / g.sx, x0 + j % g.sx, 2 * c + head * d + k);
            out.at(b, y, x, head * d + k) = static_cast<float>(acc / den);
          }
        }
}

}  // namespace hwnas
