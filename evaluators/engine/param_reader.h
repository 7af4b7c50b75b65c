// ParamReader: where a block's weights come from (a WeightStore or a seeded random init),
// with name and shape checks, and the layout conversions done at load.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/rng.h"
#include "evaluators/accuracy/training_batch_norm.h"
#include "evaluators/engine/tensor.h"
#include "evaluators/io/safetensors.h"
#include "evaluators/ops/packed_gemm.h"

namespace hwnas {

/// How a random init draws a parameter (the scale keeps activations O(1) through deep nets).
enum class InitKind {
  weight,          ///< U(-sqrt(3/fan_in), +sqrt(3/fan_in)), fan_in = product of dims 1..
  bias,            ///< U(-0.1, 0.1)
  norm_weight,     ///< U(0.8, 1.2)  (BN/LN gamma)
  norm_bias,       ///< U(-0.1, 0.1)
  running_mean,    ///< U(-0.1, 0.1)
  running_var,     ///< U(0.5, 1.5)
  layer_scale,     ///< U(0.05, 0.3)
  attention_bias,  ///< U(-1, 1)
};

/// Hands out parameters by timm name (prefix + local name), in PyTorch layout.
class ParamReader {
 public:
  /// Reads from `store` (not owned; must outlive the reader).
  static ParamReader from_store(const WeightStore& store);
  /// Draws every requested tensor from Rng(seed) in request order; records them.
  static ParamReader random(std::uint64_t seed);

  /// Prefix prepended to local names, e.g. "stages.0.blocks.1.".
  void set_prefix(std::string prefix) { prefix_ = std::move(prefix); }

  /// The tensor `prefix + name` with exactly `shape`. Throws hwnas::Error naming the tensor if
  /// it is missing or has another shape.
  std::vector<float> get(const std::string& name, const std::vector<std::int64_t>& shape,
                         InitKind kind);

  /// Throws hwnas::Error naming the first stored tensor no block asked for (integer buffers
  /// num_batches_tracked / attention_bias_idxs are ignored). No-op for random readers.
  void check_all_used() const;
  /// Tensors drawn so far by a random reader (timm names, PyTorch layout).
  const WeightStore& recorded() const { return recorded_; }

  /// From now on read_conv_bn / read_linear_bn keep each BatchNorm explicit and in training
  /// mode instead of folding it (the model BN recalibration runs, Model::for_bn_recalibration).
  void keep_batchnorm_training() { batchnorm_training_ = true; }
  bool batchnorm_training() const { return batchnorm_training_; }
  /// A training-mode BN `prefix + name`, listed in training_batchnorms() (creation order).
  std::shared_ptr<TrainingBatchNorm> add_training_batchnorm(const std::string& name,
                                                            std::vector<float> gamma,
                                                            std::vector<float> beta, float eps);
  const std::vector<std::shared_ptr<TrainingBatchNorm>>& training_batchnorms() const {
    return training_batchnorms_;
  }

 private:
  const WeightStore* store_ = nullptr;
  Rng rng_;
  std::string prefix_;
  std::set<std::string> used_;
  WeightStore recorded_;
  bool batchnorm_training_ = false;
  std::vector<std::shared_ptr<TrainingBatchNorm>> training_batchnorms_;
};

/// The BatchNorm after a convolution or linear layer as a block runs it: folded into the layer's
/// weight and bias (inference; `train` is null), or, in a model built for BN recalibration,
/// kept explicit in training mode after the layer. Blocks call the layer with fused(params) and
/// then finish(): one forward serves both.
struct BnEpilogue {
  std::shared_ptr<TrainingBatchNorm> train;
  /// `p` with the activation the layer's kernel may fuse: unchanged when the BN is folded,
  /// none when the BN (and then the activation) runs after the layer.
  template <class Params>
  Params fused(Params p) const {
    if (train) p.act = Activation::none;
    return p;
  }
  /// After the layer: training-mode BN then `act` on out when the BN is explicit; else nothing
  /// (the kernel fused both). `reference` picks the reference activation kernel.
  void finish(Tensor& out, Activation act, bool reference = false) const {
    if (train) train->forward(out, act, reference);
  }
};

/// Conv weight (cout, cin, k, k) -> (k, k, cin, cout) and BatchNorm folded in:
/// w' = w * g / sqrt(var + eps), b' = (b - mean) * g / sqrt(var + eps) + beta (Jacob et al. 2018).
struct FoldedConv : BnEpilogue {
  AlignedBuffer weight;  ///< (k, k, cin, cout), for the reference kernels
  AlignedBuffer bias;    ///< (cout)
  PackedWeights packed;  ///< weight as a (k*k*cin) x cout packed GEMM operand, for the fast ones
  int cin = 0;           ///< input channels (the row period of `packed`, see PackedWeights)
  /// Re-packs after `weight` changed (e.g. a layer scale folded in).
  void repack();
};
/// Reads `conv.weight`, `conv.bias` (only if conv_bias; else the conv has none),
/// `norm.{weight,bias,running_mean,running_var}`. For a depthwise conv (PyTorch (c, 1, k, k))
/// pass cin = 1, cout = c: `weight` is then the (k, k, c) depthwise filter. With
/// r.batchnorm_training() the BN is not folded: weight and bias are the conv's own and `train`
/// is the BN (running statistics read but unused).
FoldedConv read_conv_bn(ParamReader& r, const std::string& conv, const std::string& norm, int cin,
                        int cout, int k, float eps = 1e-5f, bool conv_bias = true);

/// A linear layer converted at load (`train` set only by read_linear_bn in a recalibration model).
struct LinearWeights : BnEpilogue {
  AlignedBuffer weight;  ///< (in, out) row-major, for the reference kernels
  AlignedBuffer bias;    ///< (out); empty when the layer has none
  PackedWeights packed;  ///< weight packed for the fast kernels
  const float* bias_or_null() const { return bias.size() ? bias.data() : nullptr; }
  void repack(int in, int out) { packed = PackedWeights(weight.data(), in, out, out); }
};
/// Reads `name.weight` (out, in) and, if has_bias, `name.bias` (out).
LinearWeights read_linear(ParamReader& r, const std::string& name, int in, int out,
                          bool has_bias = true);
/// Reads the linear layer `name` (with bias) and the BatchNorm `norm` over its `out` features
/// after it, folded per output feature as read_conv_bn does (or kept explicit, as there).
LinearWeights read_linear_bn(ParamReader& r, const std::string& name, const std::string& norm,
                             int in, int out, float eps = 1e-5f);
/// Reads `conv.weight` (cout, cin, k, k) and `conv.bias` (cout) of a convolution with no
/// BatchNorm after it (e.g. a patch embedding) into the same engine layout.
FoldedConv read_conv(ParamReader& r, const std::string& conv, int cin, int cout, int k);
/// Linear weight (out, in) [or (out, in, 1, 1)] -> (in, out) row-major.
AlignedBuffer transpose_linear(const std::vector<float>& w, int out, int in);
/// std::vector -> aligned buffer.
AlignedBuffer to_buffer(const std::vector<float>& v);

}  // namespace hwnas
