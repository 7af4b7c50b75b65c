// ElasticViT head (MobileNetV3 type, on tokens): Linear c -> mul*c + BN + hswish per token,
// mean over tokens, Linear -> feat + hswish, Linear -> classes (golden/elasticvit_blocks.md).
#include <cmath>

#include "evaluators/blocks/elasticvit_blocks.h"
#include "evaluators/ops/linear.h"
#include "evaluators/ops/mean_tokens.h"

namespace hwnas {

namespace {

// BatchNorm after a linear layer folded into it, per output channel (as read_conv_bn does for
// convolutions): w' = w * g / sqrt(var + eps), b' = (b - mean) * g / sqrt(var + eps) + beta.
void fold_bn(ParamReader& r, const std::string& norm, LinearWeights& l, int in, int out) {
  const auto g = r.get(norm + ".weight", {out}, InitKind::norm_weight);
  const auto beta = r.get(norm + ".bias", {out}, InitKind::norm_bias);
  const auto mean = r.get(norm + ".running_mean", {out}, InitKind::running_mean);
  const auto var = r.get(norm + ".running_var", {out}, InitKind::running_var);
  for (int o = 0; o < out; ++o) {
    const double s = g[o] / std::sqrt(static_cast<double>(var[o]) + 1e-5);
    for (int i = 0; i < in; ++i) {
      float& w = l.weight[static_cast<std::size_t>(i) * out + o];
      w = static_cast<float>(w * s);
    }
    l.bias[o] = static_cast<float>((l.bias[o] - mean[o]) * s + beta[o]);
  }
  l.repack(in, out);
}

class EvitHeadBlock final : public Block {
 public:
  EvitHeadBlock(const BlockSpec& spec, ParamReader& r) : Block(spec) {
    c_ = spec.get("c");
    mc_ = c_ * spec.get("mul");
    feat_ = spec.get("feat");
    classes_ = spec.get("classes");
    pre0_ = read_linear(r, "pre_head_0", c_, mc_);
    fold_bn(r, "pre_head_norm_0", pre0_, c_, mc_);
    pre1_ = read_linear(r, "pre_head_1", mc_, feat_);
    cls_ = read_linear(r, "classifer", feat_, classes_);
  }

  void reserve(int batch) override {
    tokens_.resize(batch, spec_.get("h"), spec_.get("w"), mc_);
    pooled_.resize(batch, 1, 1, mc_);
    feat_out_.resize(batch, 1, 1, feat_);
  }

  void forward(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    linear({c_, mc_, Activation::hardswish}, in, pre0_.packed, pre0_.bias.data(), nullptr, tokens_);
    mean_tokens(tokens_, pooled_);
    linear({mc_, feat_, Activation::hardswish}, pooled_, pre1_.packed, pre1_.bias.data(), nullptr,
           feat_out_);
    linear({feat_, classes_, Activation::none}, feat_out_, cls_.packed, cls_.bias.data(), nullptr,
           out);
  }

  void forward_reference(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    linear_reference({c_, mc_, Activation::hardswish}, in, pre0_.weight.data(), pre0_.bias.data(),
                     nullptr, tokens_);
    mean_tokens_reference(tokens_, pooled_);
    linear_reference({mc_, feat_, Activation::hardswish}, pooled_, pre1_.weight.data(),
                     pre1_.bias.data(), nullptr, feat_out_);
    linear_reference({feat_, classes_, Activation::none}, feat_out_, cls_.weight.data(),
                     cls_.bias.data(), nullptr, out);
  }

 private:
  int c_ = 0, mc_ = 0, feat_ = 0, classes_ = 0;
  LinearWeights pre0_, pre1_, cls_;
  Tensor tokens_, pooled_, feat_out_;
};

}  // namespace

std::unique_ptr<Block> make_evit_head_block(const BlockSpec& spec, ParamReader& params) {
  return std::make_unique<EvitHeadBlock>(spec, params);
}

}  // namespace hwnas
