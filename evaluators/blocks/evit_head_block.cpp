// ElasticViT head (MobileNetV3 type, on tokens): Linear c -> mul*c + BN + hswish per token,
// mean over tokens, Linear -> feat + hswish, Linear -> classes (golden/elasticvit_blocks.md).
#include "evaluators/blocks/elasticvit_blocks.h"
#include "evaluators/ops/linear.h"
#include "evaluators/ops/mean_tokens.h"

namespace hwnas {

namespace {

class EvitHeadBlock final : public Block {
 public:
  EvitHeadBlock(const BlockSpec& spec, ParamReader& r) : Block(spec) {
    c_ = spec.get("c");
    mc_ = c_ * spec.get("mul");
    feat_ = spec.get("feat");
    classes_ = spec.get("classes");
    pre0_ = read_linear_bn(r, "pre_head_0", "pre_head_norm_0", c_, mc_);
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
    const LinearParams p0{c_, mc_, Activation::hardswish};
    linear(pre0_.fused(p0), in, pre0_.packed, pre0_.bias.data(), nullptr, tokens_);
    pre0_.finish(tokens_, p0.act);  // BN over the tokens of the batch (BatchNorm1d)
    mean_tokens(tokens_, pooled_);
    linear({mc_, feat_, Activation::hardswish}, pooled_, pre1_.packed, pre1_.bias.data(), nullptr,
           feat_out_);
    linear({feat_, classes_, Activation::none}, feat_out_, cls_.packed, cls_.bias.data(), nullptr,
           out);
  }

  void run_reference(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    const LinearParams p0{c_, mc_, Activation::hardswish};
    linear_reference(pre0_.fused(p0), in, pre0_.weight.data(), pre0_.bias.data(), nullptr, tokens_);
    pre0_.finish(tokens_, p0.act, true);
    mean_tokens_reference(tokens_, pooled_);
    linear_reference({mc_, feat_, Activation::hardswish}, pooled_, pre1_.weight.data(),
                     pre1_.bias.data(), nullptr, feat_out_);
    linear_reference({feat_, classes_, Activation::none}, feat_out_, cls_.weight.data(),
                     cls_.bias.data(), nullptr, out);
  }
  void drop_unread_weights() override {
    for (LinearWeights* l : {&pre0_, &pre1_, &cls_}) l->weight = AlignedBuffer();
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
