// ElasticViT MobileBlock (MBConv): [1x1 expand + BN + hswish] -> depthwise kxk + BN + hswish ->
// [SE] -> 1x1 project + BN -> + shortcut (identity, or avg-pool 2x2 and/or 1x1 conv).
#include "core/error.h"
#include "evaluators/blocks/elasticvit_blocks.h"
#include "evaluators/ops/avg_pool_include_pad.h"
#include "evaluators/ops/conv2d.h"
#include "evaluators/ops/depthwise_conv2d.h"
#include "evaluators/ops/depthwise_layer.h"
#include "evaluators/ops/linear.h"
#include "evaluators/ops/scale_add.h"
#include "evaluators/ops/squeeze_excite.h"

namespace hwnas {

namespace {

class EvitMbconvBlock final : public Block {
 public:
  EvitMbconvBlock(const BlockSpec& spec, ParamReader& r) : Block(spec) {
    cin_ = spec.get("cin");
    c_ = spec.get("c");
    stride_ = spec.get("stride");
    const int k = spec.get("k");
    // The shortcut pools 2x2 with stride 2, so it only matches strides 1 and 2 (all the code has).
    if (stride_ > 2) throw Error("evit_mbconv '" + spec.key() + "': stride must be 1 or 2");
    e_ = cin_ * spec.get("expand");  // the expansion counts on the block's input width
    // The stem's supernet blocks (expand 1) have no expand conv at all (cnn.py MobileBlock).
    expand_ = spec.get("expand") > 1;
    if (expand_) {
      pw_p_ = {cin_, e_, 1, 1, 0, Activation::hardswish};
      pw_ = read_conv_bn(r, "pw_conv", "pw_bn", cin_, e_, 1, 1e-5f, false);
    }
    dw_p_ = {e_, k, stride_, (k - 1) / 2, Activation::hardswish};
    dw_ = read_conv_bn(r, "dw_conv", "dw_bn", 1, e_, k, 1e-5f, false);
    dw_layer_ = DepthwiseLayer(dw_.fused(dw_p_), dw_.weight.data(), dw_.bias.data());
    if (spec.get("se")) {
      se_p_ = {e_, e_ / 4};  // reduction 4 on the expanded width
      if (se_p_.reduced < 1)
        throw Error("evit_mbconv '" + spec.key() + "': SE needs an expanded width >= 4");
      se_w1_ = transpose_linear(
          r.get("se_conv1.weight", {se_p_.reduced, e_, 1, 1}, InitKind::weight), se_p_.reduced, e_);
      se_b1_ = to_buffer(r.get("se_conv1.bias", {se_p_.reduced}, InitKind::bias));
      se_w2_ = transpose_linear(
          r.get("se_conv2.weight", {e_, se_p_.reduced, 1, 1}, InitKind::weight), e_, se_p_.reduced);
      se_b2_ = to_buffer(r.get("se_conv2.bias", {e_}, InitKind::bias));
    }
    pwl_ = read_conv_bn(r, "pwl_conv", "pwl_bn", e_, c_, 1, 1e-5f, false);
    if (pwl_.train) ones_ = to_buffer(std::vector<float>(static_cast<std::size_t>(c_), 1.0f));
    if (cin_ != c_) {
      shortcut_ = transpose_linear(
          r.get("shortcut_conv.weight", {c_, cin_, 1, 1}, InitKind::weight), c_, cin_);
      shortcut_packed_ = PackedWeights(shortcut_.data(), cin_, c_, c_);
    }
    // avg_pool_include_pad(x, 2, 2, padding = 0 if W is even else 1), count_include_pad (cnn.py).
    pool_p_ = {cin_, 2, 2, spec.get("w") % 2 ? 1 : 0};
  }

  void reserve(int batch) override {
    const int h = spec_.get("h"), w = spec_.get("w");
    const int ho = conv_out_size(h, dw_p_.kernel, stride_, dw_p_.pad);
    const int wo = conv_out_size(w, dw_p_.kernel, stride_, dw_p_.pad);
    if (expand_) expanded_.resize(batch, h, w, e_);
    dw_out_.resize(batch, ho, wo, e_);
    if (stride_ > 1) pooled_.resize(batch, ho, wo, cin_);
    if (pwl_.train) proj_.resize(batch, ho, wo, c_);
  }

  void forward(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    const Tensor* x = &in;
    if (expand_) {
      conv2d(pw_.fused(pw_p_), in, pw_.packed, pw_.bias.data(), expanded_);
      pw_.finish(expanded_, pw_p_.act);
      x = &expanded_;
    }
    dw_layer_.forward(*x, dw_out_);
    dw_.finish(dw_out_, dw_p_.act);
    if (spec_.get("se"))
      squeeze_excite(se_p_, dw_out_, se_w1_.data(), se_b1_.data(), se_w2_.data(), se_b2_.data());
    // The shortcut goes to `out` first; the projection then adds onto it in its epilogue.
    const Tensor* res = &in;
    if (stride_ > 1) {
      avg_pool_include_pad(pool_p_, in, pooled_);
      res = &pooled_;
    }
    if (cin_ != c_) {
      linear({cin_, c_, Activation::none}, *res, shortcut_packed_, nullptr, nullptr, out);
      res = &out;
    }
    if (pwl_.train) {  // BN recalibration: the projection's BN runs before the residual add
      linear({e_, c_, Activation::none}, dw_out_, pwl_.packed, pwl_.bias.data(), nullptr, proj_);
      pwl_.finish(proj_, Activation::none);
      scale_add(*res, ones_.data(), proj_, out);
      return;
    }
    linear({e_, c_, Activation::none}, dw_out_, pwl_.packed, pwl_.bias.data(), res, out);
  }

  void run_reference(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    const Tensor* x = &in;
    if (expand_) {
      conv2d_reference(pw_.fused(pw_p_), in, pw_.weight.data(), pw_.bias.data(), expanded_);
      pw_.finish(expanded_, pw_p_.act, true);
      x = &expanded_;
    }
    depthwise_conv2d_reference(dw_.fused(dw_p_), *x, dw_.weight.data(), dw_.bias.data(), dw_out_);
    dw_.finish(dw_out_, dw_p_.act, true);
    if (spec_.get("se"))
      squeeze_excite_reference(se_p_, dw_out_, se_w1_.data(), se_b1_.data(), se_w2_.data(),
                               se_b2_.data());
    Tensor shortcut = in;
    if (stride_ > 1) {
      shortcut = Tensor(in.n(), out.h(), out.w(), cin_);
      avg_pool_include_pad_reference(pool_p_, in, shortcut);
    }
    if (cin_ != c_) {
      Tensor conv(in.n(), out.h(), out.w(), c_);
      linear_reference({cin_, c_, Activation::none}, shortcut, shortcut_.data(), nullptr, nullptr,
                       conv);
      shortcut = conv;
    }
    if (pwl_.train) {
      linear_reference({e_, c_, Activation::none}, dw_out_, pwl_.weight.data(), pwl_.bias.data(),
                       nullptr, proj_);
      pwl_.finish(proj_, Activation::none, true);
      scale_add_reference(shortcut, ones_.data(), proj_, out);
      return;
    }
    linear_reference({e_, c_, Activation::none}, dw_out_, pwl_.weight.data(), pwl_.bias.data(),
                     &shortcut, out);
  }
  // dw_'s filter stays: dw_layer_ (and Int8Depthwise) read it.
  void drop_unread_weights() override {
    pw_.weight = AlignedBuffer();
    pwl_.weight = AlignedBuffer();
    shortcut_ = AlignedBuffer();
  }

 private:
  int cin_ = 0, c_ = 0, e_ = 0, stride_ = 1;
  bool expand_ = false;
  Conv2dParams pw_p_;
  DepthwiseConv2dParams dw_p_;
  SqueezeExciteParams se_p_;
  AvgPoolIncludePadParams pool_p_;
  FoldedConv pw_, dw_, pwl_;
  DepthwiseLayer dw_layer_;  // over dw_'s weights; where int8 takes the depthwise conv over
  AlignedBuffer se_w1_, se_b1_, se_w2_, se_b2_, shortcut_;
  AlignedBuffer ones_;  // BN recalibration: the residual add is scale_add with gain 1
  PackedWeights shortcut_packed_;
  Tensor expanded_, dw_out_, pooled_, proj_;
};

}  // namespace

std::unique_ptr<Block> make_evit_mbconv_block(const BlockSpec& spec, ParamReader& params) {
  return std::make_unique<EvitMbconvBlock>(spec, params);
}

}  // namespace hwnas
