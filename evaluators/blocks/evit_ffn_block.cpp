// ElasticViT FFN layer: x + fc2(hswish(fc1(LN_sample(x)))) (golden/elasticvit_blocks.md).
#include "evaluators/blocks/elasticvit_blocks.h"
#include "evaluators/ops/linear.h"
#include "evaluators/ops/sample_norm.h"

namespace hwnas {

namespace {

class EvitFfnBlock final : public Block {
 public:
  EvitFfnBlock(const BlockSpec& spec, ParamReader& r) : Block(spec) {
    c_ = spec.get("c");
    hid_ = c_ * spec.get("mlp");
    ln_ = {c_, 1e-5f};
    norm_w_ = to_buffer(r.get("norm1.weight", {c_}, InitKind::norm_weight));
    norm_b_ = to_buffer(r.get("norm1.bias", {c_}, InitKind::norm_bias));
    fc1_ = read_linear(r, "fc1", c_, hid_);
    fc2_ = read_linear(r, "fc2", hid_, c_);
  }

  void reserve(int batch) override {
    normed_.resize(batch, spec_.get("h"), spec_.get("w"), c_);
    hidden_.resize(batch, spec_.get("h"), spec_.get("w"), hid_);
  }

  void forward(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    sample_norm(ln_, in, norm_w_.data(), norm_b_.data(), normed_);
    linear({c_, hid_, Activation::hardswish}, normed_, fc1_.packed, fc1_.bias.data(), nullptr,
           hidden_);
    linear({hid_, c_, Activation::none}, hidden_, fc2_.packed, fc2_.bias.data(), &in, out);
  }

  void run_reference(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    sample_norm_reference(ln_, in, norm_w_.data(), norm_b_.data(), normed_);
    linear_reference({c_, hid_, Activation::hardswish}, normed_, fc1_.weight.data(),
                     fc1_.bias.data(), nullptr, hidden_);
    linear_reference({hid_, c_, Activation::none}, hidden_, fc2_.weight.data(), fc2_.bias.data(),
                     &in, out);
  }
  void drop_unread_weights() override {
    fc1_.weight = AlignedBuffer();
    fc2_.weight = AlignedBuffer();
  }

 private:
  int c_ = 0, hid_ = 0;
  SampleNormParams ln_;
  AlignedBuffer norm_w_, norm_b_;
  LinearWeights fc1_, fc2_;
  Tensor normed_, hidden_;
};

}  // namespace

std::unique_ptr<Block> make_evit_ffn_block(const BlockSpec& spec, ParamReader& params) {
  return std::make_unique<EvitFfnBlock>(spec, params);
}

}  // namespace hwnas
