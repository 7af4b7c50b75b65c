// ParamReader: where a block's weights come from (a WeightStore or a seeded random init),
// with name and shape checks, and the layout conversions done at load.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "evaluators/ops/packed_gemm.h"
#include "evaluators/safetensors.h"
#include "evaluators/tensor.h"
#include "spaces/rng.h"

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

 private:
  const WeightStore* store_ = nullptr;
  Rng rng_;
  std::string prefix_;
  std::set<std::string> used_;
  WeightStore recorded_;
};

/// Conv weight (cout, cin, k, k) -> (k, k, cin, cout) and BatchNorm folded in:
/// w' = w * g / sqrt(var + eps), b' = (b - mean) * g / sqrt(var + eps) + beta (Jacob et al. 2018).
struct FoldedConv {
  AlignedBuffer weight;  ///< (k, k, cin, cout), for the reference kernels
  AlignedBuffer bias;    ///< (cout)
  PackedWeights packed;  ///< weight as a (k*k*cin) x cout packed GEMM operand, for the fast ones
  /// Re-packs after `weight` changed (e.g. a layer scale folded in).
  void repack();
};
/// Reads `conv.weight`, `conv.bias` (only if conv_bias; else the conv has none),
/// `norm.{weight,bias,running_mean,running_var}`. For a depthwise conv (PyTorch (c, 1, k, k))
/// pass cin = 1, cout = c: `weight` is then the (k, k, c) depthwise filter.
FoldedConv read_conv_bn(ParamReader& r, const std::string& conv, const std::string& norm, int cin,
                        int cout, int k, float eps = 1e-5f, bool conv_bias = true);

/// A linear layer converted at load.
struct LinearWeights {
  AlignedBuffer weight;  ///< (in, out) row-major, for the reference kernels
  AlignedBuffer bias;    ///< (out); empty when the layer has none
  PackedWeights packed;  ///< weight packed for the fast kernels
  const float* bias_or_null() const { return bias.size() ? bias.data() : nullptr; }
  void repack(int in, int out) { packed = PackedWeights(weight.data(), in, out, out); }
};
/// Reads `name.weight` (out, in) and, if has_bias, `name.bias` (out).
LinearWeights read_linear(ParamReader& r, const std::string& name, int in, int out,
                          bool has_bias = true);
/// Reads `conv.weight` (cout, cin, k, k) and `conv.bias` (cout) of a convolution with no
/// BatchNorm after it (e.g. a patch embedding) into the same engine layout.
FoldedConv read_conv(ParamReader& r, const std::string& conv, int cin, int cout, int k);
/// Linear weight (out, in) [or (out, in, 1, 1)] -> (in, out) row-major.
AlignedBuffer transpose_linear(const std::vector<float>& w, int out, int in);
/// std::vector -> aligned buffer.
AlignedBuffer to_buffer(const std::vector<float>& v);

}  // namespace hwnas
