// ElasticViT first conv: conv3x3 s2 p1 (no bias) + BN + hardswish.
#include "evaluators/blocks/elasticvit_blocks.h"
#include "evaluators/ops/conv2d.h"

namespace hwnas {

namespace {

class EvitFirstConvBlock final : public Block {
 public:
  EvitFirstConvBlock(const BlockSpec& spec, ParamReader& r) : Block(spec) {
    p_ = {spec.get("cin"), spec.get("c"), 3, 2, 1, Activation::hardswish};
    conv_ = read_conv_bn(r, "first_conv", "first_conv_bn", p_.cin, p_.cout, 3, 1e-5f, false);
  }
  void forward(const Tensor& in, Tensor& out) override {
    conv2d(conv_.fused(p_), in, conv_.packed, conv_.bias.data(), out);
    conv_.finish(out, p_.act);
  }
  void run_reference(const Tensor& in, Tensor& out) override {
    conv2d_reference(conv_.fused(p_), in, conv_.weight.data(), conv_.bias.data(), out);
    conv_.finish(out, p_.act, true);
  }
  void drop_unread_weights() override { conv_.weight = AlignedBuffer(); }

 private:
  Conv2dParams p_;
  FoldedConv conv_;
};

}  // namespace

std::unique_ptr<Block> make_evit_first_conv_block(const BlockSpec& spec, ParamReader& params) {
  return std::make_unique<EvitFirstConvBlock>(spec, params);
}

}  // namespace hwnas
