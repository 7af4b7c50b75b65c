// Hiera patch embedding: conv 7x7 stride 4 pad 3 with bias, then the learned position embedding
// (timm hiera.py PatchEmbed + pos_embed; no class token, no norm).
#include "evaluators/blocks/hiera_blocks.h"
#include "evaluators/ops/conv2d.h"
#include "evaluators/ops/position_embedding.h"

namespace hwnas {

namespace {

class HieraPatchEmbedBlock final : public Block {
 public:
  HieraPatchEmbedBlock(const BlockSpec& spec, ParamReader& r) : Block(spec) {
    p_ = {spec.get("cin"), spec.get("c"), 7, 4, 3, Activation::none};
    conv_ = read_conv(r, "patch_embed.proj", p_.cin, p_.cout, 7);
    const FeatureShape o = block_output_shape(spec);
    pos_ = to_buffer(r.get("pos_embed", {1, o.h * o.w, o.c}, InitKind::bias));
  }
  void forward(const Tensor& in, Tensor& out) override {
    conv2d(p_, in, conv_.packed, conv_.bias.data(), out);
    add_position_embedding(out, pos_.data(), out);
  }
  void run_reference(const Tensor& in, Tensor& out) override {
    conv2d_reference(p_, in, conv_.weight.data(), conv_.bias.data(), out);
    add_position_embedding_reference(out, pos_.data(), out);
  }
  void drop_unread_weights() override { conv_.weight = AlignedBuffer(); }

 private:
  Conv2dParams p_;
  FoldedConv conv_;
  AlignedBuffer pos_;
};

}  // namespace

std::unique_ptr<Block> make_hiera_patch_embed_block(const BlockSpec& spec, ParamReader& params) {
  return std::make_unique<HieraPatchEmbedBlock>(spec, params);
}

}  // namespace hwnas
