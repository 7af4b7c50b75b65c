// Meta4D (MB4D): x + ls1*(avgpool(x) - x); x + ls2*(conv1x1+BN+GELU, conv1x1+BN)(x).
#include <algorithm>
#include <vector>

#include "evaluators/blocks/efficientformer_blocks.h"
#include "evaluators/ops/linear.h"
#include "evaluators/ops/mean_tokens.h"
#include "evaluators/ops/packed_gemm.h"
#include "evaluators/ops/pool_mixer.h"
#include "evaluators/ops/scale_add.h"
#include "evaluators/runtime/parallel.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {

namespace {

class Meta4dBlock final : public Block {
 public:
  Meta4dBlock(const BlockSpec& spec, ParamReader& r) : Block(spec) {
    c_ = spec.get("c");
    hid_ = c_ * spec.get("mlp");
    pool_ = {c_, spec.get("pool")};
    ls1_ = to_buffer(r.get("ls1.gamma", {c_}, InitKind::layer_scale));
    ls2_ = to_buffer(r.get("ls2.gamma", {c_}, InitKind::layer_scale));
    fc1_ = read_conv_bn(r, "mlp.fc1", "mlp.norm1", c_, hid_, 1);
    fc2_ = read_conv_bn(r, "mlp.fc2", "mlp.norm2", hid_, c_, 1);
    if (fc2_.train) return;  // BN recalibration: op by op with explicit BNs (forward_training)
    // Fast path: ls2 folded into fc2 so the second GEMM's epilogue is bias + residual only.
    fc2_ls_ = fc2_;
    for (int i = 0; i < hid_; ++i)
      for (int o = 0; o < c_; ++o) fc2_ls_.weight[static_cast<std::size_t>(i) * c_ + o] *= ls2_[o];
    for (int o = 0; o < c_; ++o) fc2_ls_.bias[o] *= ls2_[o];
    fc2_ls_.repack();
    fc2_ls_.weight = AlignedBuffer();  // only the packed form is used (fast path)
  }

  void reserve(int batch) override {
    const int h = spec_.get("h"), w = spec_.get("w");
    mixed_.resize(batch, h, w, c_);
    hidden_.resize(batch, h, w, hid_);
  }

  void forward(const Tensor& in, Tensor& out) override {
    validate(pool_, in, out);
    reserve(in.n());
    if (fc1_.train) return forward_training(in, out, false);
    const int b_count = in.n(), h = in.h(), w = in.w();
    const int threads = engine_threads();
    // Fused token tiles: pool mixer -> fc1+GELU -> fc2+residual while the tile is in cache,
    // equal-sized tiles, a multiple of the thread count. Below 96 tokens per thread (the 7x7
    // stage) the block runs op by op instead, so that column-split GEMMs share the weight reads
    // between threads. Measured in L1 at 2 threads: fusing 14x14 (98 tokens per thread) takes
    // the block from 1.07 to 0.87 ms; fusing 7x7 gains nothing.
    const long tokens = static_cast<long>(b_count) * h * w;
    if (tokens >= 96L * threads || threads == 1) {
      const int per_image = h * w;
      const int want = static_cast<int>((tokens + 255) / 256);
      const int tiles_total = std::max(threads, (want + threads - 1) / threads * threads);
      const int tiles = std::max(1, tiles_total / b_count);  // per image
      const int size = (per_image + tiles - 1) / tiles;
      parallel_for(0, b_count * tiles, 1, [&](int lo, int hi) {
        for (int t = lo; t < hi; ++t) {
          const int b = t / tiles, p0 = (t % tiles) * size, p1 = std::min(per_image, p0 + size);
          if (p0 >= p1) continue;
          const int m = p1 - p0;
          // The mixed and hidden tiles live in per-thread scratch that stays in L2 across
          // tiles and forwards, rather than in B*H*W*c buffers streamed through L3.
          thread_local std::vector<float> scratch;
          const std::size_t need = static_cast<std::size_t>(m) * (c_ + hid_);
          if (scratch.size() < need) scratch.resize(need);
          float* a = scratch.data();
          float* hid = a + static_cast<std::size_t>(m) * c_;
          pool_mixer_pixels(pool_, in, ls1_.data(), b, p0, p1, a);
          const long off = static_cast<long>(b) * per_image + p0;
          float* o = out.data() + off * c_;
          gemm_packed_serial(m, a, c_, fc1_.packed, hid, hid_,
                             GemmEpilogue{fc1_.bias.data(), Activation::gelu, nullptr, 0});
          gemm_packed_serial(m, hid, hid_, fc2_ls_.packed, o, c_,
                             GemmEpilogue{fc2_ls_.bias.data(), Activation::none, a, c_});
        }
      });
    } else {
      pool_mixer(pool_, in, ls1_.data(), mixed_);
      linear({c_, hid_, Activation::gelu}, mixed_, fc1_.packed, fc1_.bias.data(), nullptr, hidden_);
      linear({hid_, c_, Activation::none}, hidden_, fc2_ls_.packed, fc2_ls_.bias.data(), &mixed_,
             out);
    }
  }

  void run_reference(const Tensor& in, Tensor& out) override {
    reserve(in.n());
    if (fc1_.train) return forward_training(in, out, true);
    pool_mixer_reference(pool_, in, ls1_.data(), mixed_);
    linear_reference({c_, hid_, Activation::gelu}, mixed_, fc1_.weight.data(), fc1_.bias.data(),
                     nullptr, hidden_);
    Tensor branch(in.n(), in.h(), in.w(), c_);
    linear_reference({hid_, c_, Activation::none}, hidden_, fc2_.weight.data(), fc2_.bias.data(),
                     nullptr, branch);
    scale_add_reference(mixed_, ls2_.data(), branch, out);
  }
  void drop_unread_weights() override {
    fc1_.weight = AlignedBuffer();
    fc2_.weight = AlignedBuffer();
    if (!fc2_.train) fc2_.packed = PackedWeights();  // the fast path reads fc2_ls_ instead
  }

 private:
  // BN recalibration (Model::for_bn_recalibration): the BNs normalise with the whole batch's
  // statistics, so the block runs op by op over the batch, each BN after its layer.
  void forward_training(const Tensor& in, Tensor& out, bool reference) {
    Tensor branch(in.n(), in.h(), in.w(), c_);
    const LinearParams p1{c_, hid_, Activation::none}, p2{hid_, c_, Activation::none};
    if (reference) {
      pool_mixer_reference(pool_, in, ls1_.data(), mixed_);
      linear_reference(p1, mixed_, fc1_.weight.data(), fc1_.bias.data(), nullptr, hidden_);
    } else {
      pool_mixer(pool_, in, ls1_.data(), mixed_);
      linear(p1, mixed_, fc1_.packed, fc1_.bias.data(), nullptr, hidden_);
    }
    fc1_.finish(hidden_, Activation::gelu, reference);
    if (reference)
      linear_reference(p2, hidden_, fc2_.weight.data(), fc2_.bias.data(), nullptr, branch);
    else
      linear(p2, hidden_, fc2_.packed, fc2_.bias.data(), nullptr, branch);
    fc2_.finish(branch, Activation::none, reference);
    if (reference)
      scale_add_reference(mixed_, ls2_.data(), branch, out);
    else
      scale_add(mixed_, ls2_.data(), branch, out);
  }

  int c_ = 0, hid_ = 0;
  PoolMixerParams pool_;
  AlignedBuffer ls1_, ls2_;
  FoldedConv fc1_, fc2_, fc2_ls_;
  Tensor mixed_, hidden_;
};

}  // namespace

std::unique_ptr<Block> make_meta4d_block(const BlockSpec& spec, ParamReader& params) {
  return std::make_unique<Meta4dBlock>(spec, params);
}

}  // namespace hwnas
