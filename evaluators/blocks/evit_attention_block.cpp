// ElasticViT attention layer: x + proj(hswish(MHSA(LN_sample(x)))) with a depthwise 3x3 conv on
// V and a relative-position bias per head (golden/elasticvit_blocks.md, "Transformer attention").
#include "core/error.h"
#include "evaluators/blocks/elasticvit_blocks.h"
#include "evaluators/ops/biased_attention.h"
#include "evaluators/ops/depthwise_conv2d.h"
#include "evaluators/ops/depthwise_layer.h"
#include "evaluators/ops/linear.h"
#include "evaluators/ops/sample_norm.h"

namespace hwnas {

namespace {

// Dense (heads, n, n) bias from the code's relative-position table ((2h-1)(2w-1), heads):
// bias[i][q][k] = table[(yq - yk + h - 1) * (2w - 1) + (xq - xk + w - 1)][i], n = y*w + x.
AlignedBuffer dense_relative_bias(const std::vector<float>& table, int heads, int h, int w) {
  const int n = h * w;
  AlignedBuffer out(static_cast<std::size_t>(heads) * n * n);
  for (int i = 0; i < heads; ++i)
    for (int q = 0; q < n; ++q)
      for (int k = 0; k < n; ++k) {
        const int dy = q / w - k / w + h - 1, dx = q % w - k % w + w - 1;
        out[(static_cast<std::size_t>(i) * n + q) * n + k] =
            table[(static_cast<std::size_t>(dy) * (2 * w - 1) + dx) * heads + i];
      }
  return out;
}

class EvitAttentionBlock final : public Block {
 public:
  EvitAttentionBlock(const BlockSpec& spec, ParamReader& r) : Block(spec) {
    c_ = spec.get("c");
    h_ = spec.get("h");
    w_ = spec.get("w");
    const int heads = spec.get("heads");
    if (c_ % heads != 0)
      throw Error("evit_attention '" + spec.key() + "': c must be a multiple of heads");
    const int kd = c_ / heads;
    attn_ = {heads, kd, kd * spec.get("v_scale"), h_ * w_};
    per_ = 2 * kd + attn_.dv;
    ln_ = {c_, 1e-5f};
    norm_w_ = to_buffer(r.get("norm1.weight", {c_}, InitKind::norm_weight));
    norm_b_ = to_buffer(r.get("norm1.bias", {c_}, InitKind::norm_bias));
    qkv_ = read_linear(r, "qkv", c_, heads * per_, false);
    dw_p_ = {attn_.v_width(), 3, 1, 1, Activation::none};
    // (hdv, 1, 3, 3) -> (3, 3, hdv).
    const auto dw = r.get("dw_v_conv.weight", {attn_.v_width(), 1, 3, 3}, InitKind::weight);
    dw_v_ = AlignedBuffer(dw.size());
    for (int ch = 0; ch < attn_.v_width(); ++ch)
      for (int t = 0; t < 9; ++t)
        dw_v_[static_cast<std::size_t>(t) * attn_.v_width() + ch] =
            dw[static_cast<std::size_t>(ch) * 9 + t];
    dw_layer_ = DepthwiseLayer(dw_p_, dw_v_.data(), nullptr);
    const auto table =
        r.get("attention_bias", {(2 * h_ - 1) * (2 * w_ - 1), heads}, InitKind::attention_bias);
    bias_ = dense_relative_bias(table, heads, h_, w_);
    proj_ = read_linear(r, "proj", attn_.v_width(), c_);
    // Fast path: the per-head (q, k, v) chunks of the qkv output split into one q/k GEMM and
    // one v GEMM, so V comes out contiguous for its depthwise conv.
    AlignedBuffer qk(static_cast<std::size_t>(c_) * attn_.qk_width()),
        v(static_cast<std::size_t>(c_) * attn_.v_width());
    for (int i = 0; i < c_; ++i)
      for (int hd = 0; hd < heads; ++hd) {
        const float* src =
            qkv_.weight.data() + static_cast<std::size_t>(i) * heads * per_ + hd * per_;
        for (int d = 0; d < 2 * kd; ++d)
          qk[static_cast<std::size_t>(i) * attn_.qk_width() + hd * 2 * kd + d] = src[d];
        for (int d = 0; d < attn_.dv; ++d)
          v[static_cast<std::size_t>(i) * attn_.v_width() + hd * attn_.dv + d] = src[2 * kd + d];
      }
    qk_packed_ = PackedWeights(qk.data(), c_, attn_.qk_width(), attn_.qk_width());
    v_packed_ = PackedWeights(v.data(), c_, attn_.v_width(), attn_.v_width());
  }

  void reserve(int batch) override {
    normed_.resize(batch, h_, w_, c_);
    qk_out_.resize(batch, h_, w_, attn_.qk_width());
    v_out_.resize(batch, h_, w_, attn_.v_width());
    v_conv_.resize(batch, h_, w_, attn_.v_width());
    attn_out_.resize(batch, h_, w_, attn_.v_width());
  }

  void forward(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    sample_norm(ln_, in, norm_w_.data(), norm_b_.data(), normed_);
    linear({c_, attn_.qk_width(), Activation::none}, normed_, qk_packed_, nullptr, nullptr,
           qk_out_);
    linear({c_, attn_.v_width(), Activation::none}, normed_, v_packed_, nullptr, nullptr, v_out_);
    dw_layer_.forward(v_out_, v_conv_);
    biased_attention(attn_, qk_out_, v_conv_, bias_.data(), attn_out_);
    apply_activation(Activation::hardswish, attn_out_.data(), attn_out_.size());
    linear({attn_.v_width(), c_, Activation::none}, attn_out_, proj_.packed, proj_.bias.data(), &in,
           out);
  }

  void run_reference(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    sample_norm_reference(ln_, in, norm_w_.data(), norm_b_.data(), normed_);
    Tensor qkv(in.n(), h_, w_, attn_.heads * per_);
    linear_reference({c_, attn_.heads * per_, Activation::none}, normed_, qkv_.weight.data(),
                     nullptr, nullptr, qkv);
    // The code's head split: head i owns qkv channels [i*per, (i+1)*per) = (q, k, v).
    const int kd = attn_.kd;
    for (int t = 0; t < in.n() * attn_.n; ++t)
      for (int hd = 0; hd < attn_.heads; ++hd) {
        const float* src = qkv.data() + (static_cast<std::size_t>(t) * attn_.heads + hd) * per_;
        for (int d = 0; d < 2 * kd; ++d)
          qk_out_.data()[static_cast<std::size_t>(t) * attn_.qk_width() + hd * 2 * kd + d] = src[d];
        for (int d = 0; d < attn_.dv; ++d)
          v_out_.data()[static_cast<std::size_t>(t) * attn_.v_width() + hd * attn_.dv + d] =
              src[2 * kd + d];
      }
    depthwise_conv2d_reference(dw_p_, v_out_, dw_v_.data(), nullptr, v_conv_);
    biased_attention_reference(attn_, qk_out_, v_conv_, bias_.data(), attn_out_);
    apply_activation_reference(Activation::hardswish, attn_out_.data(), attn_out_.size());
    linear_reference({attn_.v_width(), c_, Activation::none}, attn_out_, proj_.weight.data(),
                     proj_.bias.data(), &in, out);
  }
  void drop_unread_weights() override {
    // The fast path reads qk_packed_ and v_packed_, the qkv weights split at construction.
    qkv_.weight = AlignedBuffer();
    qkv_.packed = PackedWeights();
    proj_.weight = AlignedBuffer();
  }

 private:
  int c_ = 0, h_ = 0, w_ = 0, per_ = 0;
  BiasedAttentionParams attn_;
  SampleNormParams ln_;
  DepthwiseConv2dParams dw_p_;
  DepthwiseLayer dw_layer_;  // over dw_v_; where int8 takes the depthwise conv over
  AlignedBuffer norm_w_, norm_b_, dw_v_, bias_;
  LinearWeights qkv_, proj_;
  PackedWeights qk_packed_, v_packed_;
  Tensor normed_, qk_out_, v_out_, v_conv_, attn_out_;
};

}  // namespace

std::unique_ptr<Block> make_evit_attention_block(const BlockSpec& spec, ParamReader& params) {
  return std::make_unique<EvitAttentionBlock>(spec, params);
}

}  // namespace hwnas
