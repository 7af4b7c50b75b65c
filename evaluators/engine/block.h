// Block: the executable form of one BlockSpec, built from the operators in evaluators/ops/.
#pragma once

#include <memory>

#include "evaluators/engine/param_reader.h"
#include "evaluators/engine/tensor.h"
#include "spaces/block_spec.h"

namespace hwnas {

/// One block with its converted weights and scratch buffers.
/// Input and output are NHWC (B, h, w, c) per block_input_shape / block_output_shape (token
/// sequences keep the h x w grid or 1 x n). forward() is the fused fast path; forward_reference()
/// runs the same block through the reference kernels, unfused; both give the same result up to
/// fp32 rounding.
class Block {
 public:
  explicit Block(BlockSpec spec) : spec_(std::move(spec)) {}
  virtual ~Block() = default;
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  const BlockSpec& spec() const { return spec_; }

  /// Allocates scratch for `batch` images; forward() at that batch size then never allocates.
  virtual void reserve(int batch) { (void)batch; }
  /// in: (B, in.h, in.w, in.c), out: preallocated (B, out.h, out.w, out.c); distinct tensors.
  virtual void forward(const Tensor& in, Tensor& out) = 0;
  /// The same through the reference kernels. Throws hwnas::Error after
  /// drop_reference_weights().
  void forward_reference(const Tensor& in, Tensor& out);
  /// Frees the weight copies forward() does not read: the unpacked GEMM weights the reference
  /// kernels take, and packed operands the fast path replaced (a Meta4D's fc2 before its layer
  /// scale was folded in). forward() and int8 quantization (which reads the packed operands and
  /// the depthwise filters) are unchanged; forward_reference() then throws. For the profiler's
  /// cold-weights copies, which hold a block up to 32 times and never run the reference path.
  /// A BN-recalibration block (ParamReader::batchnorm_training) keeps what its forward reads.
  void drop_reference_weights();

 protected:
  virtual void run_reference(const Tensor& in, Tensor& out) = 0;
  /// Frees what drop_reference_weights() says; the default keeps everything (blocks without
  /// GEMM layers, and registered kinds that do not override it).
  virtual void drop_unread_weights() {}

  BlockSpec spec_;

 private:
  bool reference_dropped_ = false;
};

/// Builds the block of `spec`, reading its parameters through `params` under the local names
/// of the space's reference code (timm's "mlp.fc1.weight", ElasticViT's "dw_conv.weight"; the
/// caller sets the prefix, see param_prefixes in families/model_family.h), through the record
/// of the kind's model family (families/model_family.h). Throws hwnas::Error for a bad spec,
/// a kind whose family is not registered, or missing / mis-shaped weights.
std::unique_ptr<Block> make_block(const BlockSpec& spec, ParamReader& params);

}  // namespace hwnas
