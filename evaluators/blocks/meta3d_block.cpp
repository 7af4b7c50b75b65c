// Meta3D (MB3D): x + ls1*MHSA(LN(x)); x + ls2*MLP(LN(x)) on an h x w token grid.
#include "evaluators/blocks/efficientformer_blocks.h"
#include "evaluators/engine/param_reader.h"
#include "evaluators/ops/efficientformer_attention.h"
#include "evaluators/ops/layer_norm.h"
#include "evaluators/ops/linear.h"
#include "evaluators/ops/scale_add.h"

namespace hwnas {

namespace {

// Layer scale folded into a linear layer: ls * (x W + b) = x (W ls) + b ls.
LinearWeights fold_scale(const LinearWeights& l, const AlignedBuffer& ls, int in, int out) {
  LinearWeights f = l;
  for (int i = 0; i < in; ++i)
    for (int o = 0; o < out; ++o) f.weight[static_cast<std::size_t>(i) * out + o] *= ls[o];
  for (int o = 0; o < out; ++o) f.bias[o] *= ls[o];
  f.repack(in, out);
  f.weight = AlignedBuffer();  // only the packed form is used (fast path)
  return f;
}

class Meta3dBlock final : public Block {
 public:
  Meta3dBlock(const BlockSpec& spec, ParamReader& r) : Block(spec) {
    c_ = spec.get("c");
    const int heads = spec.get("heads"), kd = spec.get("kd");
    attn_ = {heads, kd, spec.get("ar") * kd, spec.get("h"), spec.get("w")};
    hid_ = c_ * spec.get("mlp");
    ln_ = {c_, 1e-5f};
    norm1_w_ = to_buffer(r.get("norm1.weight", {c_}, InitKind::norm_weight));
    norm1_b_ = to_buffer(r.get("norm1.bias", {c_}, InitKind::norm_bias));
    qkv_ = read_linear(r, "token_mixer.qkv", c_, attn_.qkv_width());
    proj_ = read_linear(r, "token_mixer.proj", attn_.out_width(), c_);
    bias_ = to_buffer(r.get("token_mixer.attention_biases", {heads, attn_.h * attn_.w},
                            InitKind::attention_bias));
    norm2_w_ = to_buffer(r.get("norm2.weight", {c_}, InitKind::norm_weight));
    norm2_b_ = to_buffer(r.get("norm2.bias", {c_}, InitKind::norm_bias));
    fc1_ = read_linear(r, "mlp.fc1", c_, hid_);
    fc2_ = read_linear(r, "mlp.fc2", hid_, c_);
    ls1_ = to_buffer(r.get("ls1.gamma", {c_}, InitKind::layer_scale));
    ls2_ = to_buffer(r.get("ls2.gamma", {c_}, InitKind::layer_scale));
    proj_ls_ = fold_scale(proj_, ls1_, attn_.out_width(), c_);
    fc2_ls_ = fold_scale(fc2_, ls2_, hid_, c_);
  }

  void reserve(int batch) override {
    const int h = attn_.h, w = attn_.w;
    normed_.resize(batch, h, w, c_);
    qkv_out_.resize(batch, h, w, attn_.qkv_width());
    attn_out_.resize(batch, h, w, attn_.out_width());
    hidden_.resize(batch, h, w, hid_);
  }

  void forward(const Tensor& in_any, Tensor& out_any) override {
    reserve(in_any.n());
    const Tensor in = in_any.reshaped(in_any.n(), attn_.h, attn_.w, c_);
    Tensor out = out_any.reshaped(out_any.n(), attn_.h, attn_.w, c_);
    layer_norm(ln_, in, norm1_w_.data(), norm1_b_.data(), normed_);
    linear({c_, attn_.qkv_width(), Activation::none}, normed_, qkv_.packed, qkv_.bias.data(),
           nullptr, qkv_out_);
    efficientformer_attention(attn_, qkv_out_, bias_.data(), attn_out_);
    linear({attn_.out_width(), c_, Activation::none}, attn_out_, proj_ls_.packed,
           proj_ls_.bias.data(), &in, out);
    layer_norm(ln_, out, norm2_w_.data(), norm2_b_.data(), normed_);
    linear({c_, hid_, Activation::gelu}, normed_, fc1_.packed, fc1_.bias.data(), nullptr, hidden_);
    linear({hid_, c_, Activation::none}, hidden_, fc2_ls_.packed, fc2_ls_.bias.data(), &out, out);
  }

  void run_reference(const Tensor& in_any, Tensor& out_any) override {
    reserve(in_any.n());
    const Tensor in = in_any.reshaped(in_any.n(), attn_.h, attn_.w, c_);
    Tensor out = out_any.reshaped(out_any.n(), attn_.h, attn_.w, c_);
    Tensor branch(in.n(), attn_.h, attn_.w, c_), x1(in.n(), attn_.h, attn_.w, c_);
    layer_norm_reference(ln_, in, norm1_w_.data(), norm1_b_.data(), normed_);
    linear_reference({c_, attn_.qkv_width(), Activation::none}, normed_, qkv_.weight.data(),
                     qkv_.bias.data(), nullptr, qkv_out_);
    efficientformer_attention_reference(attn_, qkv_out_, bias_.data(), attn_out_);
    linear_reference({attn_.out_width(), c_, Activation::none}, attn_out_, proj_.weight.data(),
                     proj_.bias.data(), nullptr, branch);
    scale_add_reference(in, ls1_.data(), branch, x1);
    layer_norm_reference(ln_, x1, norm2_w_.data(), norm2_b_.data(), normed_);
    linear_reference({c_, hid_, Activation::gelu}, normed_, fc1_.weight.data(), fc1_.bias.data(),
                     nullptr, hidden_);
    linear_reference({hid_, c_, Activation::none}, hidden_, fc2_.weight.data(), fc2_.bias.data(),
                     nullptr, branch);
    scale_add_reference(x1, ls2_.data(), branch, out);
  }
  void drop_unread_weights() override {
    for (LinearWeights* l : {&qkv_, &proj_, &fc1_, &fc2_}) l->weight = AlignedBuffer();
    // The fast path reads proj_ls_ and fc2_ls_, with the layer scales folded in.
    proj_.packed = PackedWeights();
    fc2_.packed = PackedWeights();
  }

 private:
  int c_ = 0, hid_ = 0;
  EfficientFormerAttentionParams attn_;
  LayerNormParams ln_;
  AlignedBuffer norm1_w_, norm1_b_, norm2_w_, norm2_b_, bias_, ls1_, ls2_;
  LinearWeights qkv_, proj_, fc1_, fc2_, proj_ls_, fc2_ls_;
  Tensor normed_, qkv_out_, attn_out_, hidden_;
};

}  // namespace

std::unique_ptr<Block> make_meta3d_block(const BlockSpec& spec, ParamReader& params) {
  return std::make_unique<Meta3dBlock>(spec, params);
}

}  // namespace hwnas
