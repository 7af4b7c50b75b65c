// EfficientFormer's head: LN over c, mean over the tokens, and the classifier and distillation
// classifier averaged (timm efficientformer.py forward_head).
#include "evaluators/blocks/efficientformer_blocks.h"
#include "evaluators/engine/param_reader.h"
#include "evaluators/ops/layer_norm.h"
#include "evaluators/ops/linear.h"
#include "evaluators/ops/mean_tokens.h"

namespace hwnas {

namespace {

// Head: LN over c, mean over tokens, (head(x) + head_dist(x)) / 2 (timm forward_head).
class HeadBlock final : public Block {
 public:
  HeadBlock(const BlockSpec& spec, ParamReader& r) : Block(spec) {
    c_ = spec.get("c");
    classes_ = spec.get("classes");
    ln_ = {c_, 1e-5f};
    norm_w_ = to_buffer(r.get("norm.weight", {c_}, InitKind::norm_weight));
    norm_b_ = to_buffer(r.get("norm.bias", {c_}, InitKind::norm_bias));
    heads_.push_back(read_linear(r, "head", c_, classes_));
    if (spec.get("dist") > 0) heads_.push_back(read_linear(r, "head_dist", c_, classes_));
    // Fast path: the classifiers are averaged once at load (a linear map of the same input).
    avg_ = heads_[0];
    const float inv = 1.0f / static_cast<float>(heads_.size());
    for (std::size_t i = 0; i < avg_.weight.size(); ++i) {
      float s = 0;
      for (const auto& h : heads_) s += h.weight[i];
      avg_.weight[i] = s * inv;
    }
    for (std::size_t i = 0; i < avg_.bias.size(); ++i) {
      float s = 0;
      for (const auto& h : heads_) s += h.bias[i];
      avg_.bias[i] = s * inv;
    }
    avg_.repack(c_, classes_);
    avg_.weight = AlignedBuffer();
  }

  void reserve(int batch) override {
    normed_.resize(batch, 1, spec_.get("n"), c_);
    pooled_.resize(batch, 1, 1, c_);
  }

  void forward(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    const Tensor tokens = in.reshaped(in.n(), 1, spec_.get("n"), c_);
    layer_norm(ln_, tokens, norm_w_.data(), norm_b_.data(), normed_);
    mean_tokens(normed_, pooled_);
    linear({c_, classes_, Activation::none}, pooled_, avg_.packed, avg_.bias.data(), nullptr, out);
  }

  void run_reference(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    const Tensor tokens = in.reshaped(in.n(), 1, spec_.get("n"), c_);
    layer_norm_reference(ln_, tokens, norm_w_.data(), norm_b_.data(), normed_);
    mean_tokens_reference(normed_, pooled_);
    Tensor one(in.n(), 1, 1, classes_);
    for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] = 0;
    for (const auto& h : heads_) {
      linear_reference({c_, classes_, Activation::none}, pooled_, h.weight.data(), h.bias.data(),
                       nullptr, one);
      for (std::size_t i = 0; i < out.size(); ++i)
        out.data()[i] += one.data()[i] / static_cast<float>(heads_.size());
    }
  }
  void drop_unread_weights() override {
    for (LinearWeights& h : heads_) {  // the fast path reads avg_, their mean
      h.weight = AlignedBuffer();
      h.packed = PackedWeights();
    }
  }

 private:
  int c_ = 0, classes_ = 0;
  LayerNormParams ln_;
  AlignedBuffer norm_w_, norm_b_;
  std::vector<LinearWeights> heads_;
  LinearWeights avg_;
  Tensor normed_, pooled_;
};

}  // namespace

std::unique_ptr<Block> make_head_block(const BlockSpec& spec, ParamReader& params) {
  return std::make_unique<HeadBlock>(spec, params);
}

}  // namespace hwnas
