// stem, downsample and flatten blocks.
#include <cstring>

#include "core/error.h"
#include "evaluators/blocks/efficientformer_blocks.h"
#include "evaluators/ops/conv2d.h"

namespace hwnas {

namespace {

// Stem4: conv3x3 s2 p1 (cin -> c/2) + BN + ReLU, conv3x3 s2 p1 (c/2 -> c) + BN + ReLU.
class StemBlock final : public Block {
 public:
  StemBlock(const BlockSpec& spec, ParamReader& r) : Block(spec) {
    const int cin = spec.get("cin"), c = spec.get("c");
    if (c < 2) throw Error("stem block '" + spec.key() + "': c must be at least 2");
    p1_ = {cin, c / 2, 3, 2, 1, Activation::relu};
    p2_ = {c / 2, c, 3, 2, 1, Activation::relu};
    c1_ = read_conv_bn(r, "conv1", "norm1", cin, c / 2, 3);
    c2_ = read_conv_bn(r, "conv2", "norm2", c / 2, c, 3);
  }
  void reserve(int batch) override {
    mid_.resize(batch, conv_out_size(spec_.get("h"), 3, 2, 1),
                conv_out_size(spec_.get("w"), 3, 2, 1), p1_.cout);
  }
  void forward(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    conv2d(c1_.fused(p1_), in, c1_.packed, c1_.bias.data(), mid_);
    c1_.finish(mid_, p1_.act);
    conv2d(c2_.fused(p2_), mid_, c2_.packed, c2_.bias.data(), out);
    c2_.finish(out, p2_.act);
  }
  void run_reference(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    conv2d_reference(c1_.fused(p1_), in, c1_.weight.data(), c1_.bias.data(), mid_);
    c1_.finish(mid_, p1_.act, true);
    conv2d_reference(c2_.fused(p2_), mid_, c2_.weight.data(), c2_.bias.data(), out);
    c2_.finish(out, p2_.act, true);
  }
  void drop_unread_weights() override {
    c1_.weight = AlignedBuffer();
    c2_.weight = AlignedBuffer();
  }

 private:
  Conv2dParams p1_, p2_;
  FoldedConv c1_, c2_;
  Tensor mid_;
};

// Downsample: conv3x3 s2 p1 + BN.
class DownsampleBlock final : public Block {
 public:
  DownsampleBlock(const BlockSpec& spec, ParamReader& r) : Block(spec) {
    p_ = {spec.get("cin"), spec.get("c"), 3, 2, 1, Activation::none};
    conv_ = read_conv_bn(r, "conv", "norm", p_.cin, p_.cout, 3);
  }
  void forward(const Tensor& in, Tensor& out) override {
    conv2d(p_, in, conv_.packed, conv_.bias.data(), out);
    conv_.finish(out, p_.act);
  }
  void run_reference(const Tensor& in, Tensor& out) override {
    conv2d_reference(p_, in, conv_.weight.data(), conv_.bias.data(), out);
    conv_.finish(out, p_.act, true);
  }
  void drop_unread_weights() override { conv_.weight = AlignedBuffer(); }

 private:
  Conv2dParams p_;
  FoldedConv conv_;
};

// Flatten: NHWC memory already is the token sequence (timm Flat: flatten(2).transpose(1,2)).
class FlattenBlock final : public Block {
 public:
  FlattenBlock(const BlockSpec& spec, ParamReader&) : Block(spec) {}
  void forward(const Tensor& in, Tensor& out) override {
    if (in.size() != out.size()) throw Error("flatten: input and output sizes differ");
    if (in.data() != out.data()) std::memcpy(out.data(), in.data(), in.size() * sizeof(float));
  }
  void run_reference(const Tensor& in, Tensor& out) override { forward(in, out); }
};

}  // namespace

std::unique_ptr<Block> make_stem_block(const BlockSpec& spec, ParamReader& params) {
  return std::make_unique<StemBlock>(spec, params);
}
std::unique_ptr<Block> make_downsample_block(const BlockSpec& spec, ParamReader& params) {
  return std::make_unique<DownsampleBlock>(spec, params);
}
std::unique_ptr<Block> make_flatten_block(const BlockSpec& spec, ParamReader& params) {
  return std::make_unique<FlattenBlock>(spec, params);
}

}  // namespace hwnas
