// Hiera head: mean over all tokens, LayerNorm (eps 1e-6), Linear to the classes (timm hiera.py
// forward_features' mean + norm, Head.projection; no softmax, as in timm).
#include "evaluators/blocks/hiera_blocks.h"
#include "evaluators/engine/param_reader.h"
#include "evaluators/ops/layer_norm.h"
#include "evaluators/ops/linear.h"
#include "evaluators/ops/mean_tokens.h"

namespace hwnas {

namespace {

class HieraHeadBlock final : public Block {
 public:
  HieraHeadBlock(const BlockSpec& spec, ParamReader& r) : Block(spec) {
    c_ = spec.get("c");
    classes_ = spec.get("classes");
    ln_ = {c_, 1e-6f};
    norm_w_ = to_buffer(r.get("norm.weight", {c_}, InitKind::norm_weight));
    norm_b_ = to_buffer(r.get("norm.bias", {c_}, InitKind::norm_bias));
    fc_ = read_linear(r, "head.projection", c_, classes_);
  }
  void reserve(int batch) override {
    pooled_.resize(batch, 1, 1, c_);
    normed_.resize(batch, 1, 1, c_);
  }
  void forward(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    mean_tokens(in, pooled_);
    layer_norm(ln_, pooled_, norm_w_.data(), norm_b_.data(), normed_);
    linear({c_, classes_, Activation::none}, normed_, fc_.packed, fc_.bias.data(), nullptr, out);
  }
  void run_reference(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    mean_tokens_reference(in, pooled_);
    layer_norm_reference(ln_, pooled_, norm_w_.data(), norm_b_.data(), normed_);
    linear_reference({c_, classes_, Activation::none}, normed_, fc_.weight.data(), fc_.bias.data(),
                     nullptr, out);
  }
  void drop_unread_weights() override { fc_.weight = AlignedBuffer(); }

 private:
  int c_ = 0, classes_ = 0;
  LayerNormParams ln_;
  AlignedBuffer norm_w_, norm_b_;
  LinearWeights fc_;
  Tensor pooled_, normed_;
};

}  // namespace

std::unique_ptr<Block> make_hiera_head_block(const BlockSpec& spec, ParamReader& params) {
  return std::make_unique<HieraHeadBlock>(spec, params);
}

}  // namespace hwnas
