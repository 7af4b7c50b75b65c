// Hiera block (timm hiera.py HieraBlock; shared/golden/hiera_blocks.md section 4):
//   xn = LN1(x); shortcut = proj(xn) if cin != c else x, 2x2 max-pooled when the block
//   Q-pools; x = shortcut + attn.proj(MaskUnitAttention(attn.qkv(xn)));
//   x = x + fc2(GELU(fc1(LN2(x)))). LayerNorm eps 1e-6, every Linear with bias.
// timm pools the shortcut only inside its projection branch (a Q-pooling block without a width
// change would fail there); hwnas pools whichever shortcut the block has, which is the same
// wherever timm runs.
#include "evaluators/blocks/hiera_blocks.h"
#include "evaluators/engine/param_reader.h"
#include "evaluators/ops/layer_norm.h"
#include "evaluators/ops/linear.h"
#include "evaluators/ops/max_pool.h"
#include "evaluators/ops/window_attention.h"

namespace hwnas {

namespace {

class HieraBlock final : public Block {
 public:
  HieraBlock(const BlockSpec& spec, ParamReader& r) : Block(spec) {
    cin_ = spec.get("cin");
    c_ = spec.get("c");
    hid_ = c_ * spec.get("mlp");
    const int heads = spec.get("heads");
    attn_ = {heads,         c_ / heads,     spec.get("h"),
             spec.get("w"), spec.get("mu"), spec.get("qpool") == 1};
    ln1_ = {cin_, 1e-6f};
    ln2_ = {c_, 1e-6f};
    norm1_w_ = to_buffer(r.get("norm1.weight", {cin_}, InitKind::norm_weight));
    norm1_b_ = to_buffer(r.get("norm1.bias", {cin_}, InitKind::norm_bias));
    if (projected()) proj_ = read_linear(r, "proj", cin_, c_);
    qkv_ = read_linear(r, "attn.qkv", cin_, attn_.qkv_width());
    attn_proj_ = read_linear(r, "attn.proj", c_, c_);
    norm2_w_ = to_buffer(r.get("norm2.weight", {c_}, InitKind::norm_weight));
    norm2_b_ = to_buffer(r.get("norm2.bias", {c_}, InitKind::norm_bias));
    fc1_ = read_linear(r, "mlp.fc1", c_, hid_);
    fc2_ = read_linear(r, "mlp.fc2", hid_, c_);
  }

  void reserve(int batch) override {
    const int h = attn_.h, w = attn_.w;
    normed_.resize(batch, h, w, cin_);
    qkv_out_.resize(batch, h, w, attn_.qkv_width());
    attn_out_.resize(batch, attn_.out_h(), attn_.out_w(), c_);
    if (projected()) projected_.resize(batch, h, w, c_);
    if (attn_.qpool) pooled_.resize(batch, attn_.out_h(), attn_.out_w(), c_);
    normed2_.resize(batch, attn_.out_h(), attn_.out_w(), c_);
    hidden_.resize(batch, attn_.out_h(), attn_.out_w(), hid_);
  }

  void forward(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    layer_norm(ln1_, in, norm1_w_.data(), norm1_b_.data(), normed_);
    const Tensor* shortcut = &in;
    if (projected()) {
      linear({cin_, c_, Activation::none}, normed_, proj_.packed, proj_.bias.data(), nullptr,
             projected_);
      shortcut = &projected_;
    }
    if (attn_.qpool) {
      max_pool({c_, 2}, *shortcut, pooled_);
      shortcut = &pooled_;
    }
    linear({cin_, attn_.qkv_width(), Activation::none}, normed_, qkv_.packed, qkv_.bias.data(),
           nullptr, qkv_out_);
    window_attention(attn_, qkv_out_, attn_out_);
    linear({c_, c_, Activation::none}, attn_out_, attn_proj_.packed, attn_proj_.bias.data(),
           shortcut, out);
    layer_norm(ln2_, out, norm2_w_.data(), norm2_b_.data(), normed2_);
    linear({c_, hid_, Activation::gelu}, normed2_, fc1_.packed, fc1_.bias.data(), nullptr, hidden_);
    linear({hid_, c_, Activation::none}, hidden_, fc2_.packed, fc2_.bias.data(), &out, out);
  }

  void run_reference(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    layer_norm_reference(ln1_, in, norm1_w_.data(), norm1_b_.data(), normed_);
    const Tensor* shortcut = &in;
    if (projected()) {
      linear_reference({cin_, c_, Activation::none}, normed_, proj_.weight.data(),
                       proj_.bias.data(), nullptr, projected_);
      shortcut = &projected_;
    }
    if (attn_.qpool) {
      max_pool_reference({c_, 2}, *shortcut, pooled_);
      shortcut = &pooled_;
    }
    linear_reference({cin_, attn_.qkv_width(), Activation::none}, normed_, qkv_.weight.data(),
                     qkv_.bias.data(), nullptr, qkv_out_);
    window_attention_reference(attn_, qkv_out_, attn_out_);
    linear_reference({c_, c_, Activation::none}, attn_out_, attn_proj_.weight.data(),
                     attn_proj_.bias.data(), shortcut, out);
    layer_norm_reference(ln2_, out, norm2_w_.data(), norm2_b_.data(), normed2_);
    linear_reference({c_, hid_, Activation::gelu}, normed2_, fc1_.weight.data(), fc1_.bias.data(),
                     nullptr, hidden_);
    linear_reference({hid_, c_, Activation::none}, hidden_, fc2_.weight.data(), fc2_.bias.data(),
                     &out, out);
  }
  void drop_unread_weights() override {
    for (LinearWeights* l : {&proj_, &qkv_, &attn_proj_, &fc1_, &fc2_}) l->weight = AlignedBuffer();
  }

 private:
  bool projected() const { return cin_ != c_; }

  int cin_ = 0, c_ = 0, hid_ = 0;
  WindowAttentionParams attn_;
  LayerNormParams ln1_, ln2_;
  AlignedBuffer norm1_w_, norm1_b_, norm2_w_, norm2_b_;
  LinearWeights proj_, qkv_, attn_proj_, fc1_, fc2_;
  Tensor normed_, qkv_out_, attn_out_, projected_, pooled_, normed2_, hidden_;
};

}  // namespace

std::unique_ptr<Block> make_hiera_block(const BlockSpec& spec, ParamReader& params) {
  return std::make_unique<HieraBlock>(spec, params);
}

}  // namespace hwnas
