// Building blocks of hwnas's ONNX export: a graph under construction and the standard-operator
// forms (opset 17) of the layers the three search spaces share. The per-family lowerings
// (efficientformer_onnx.cpp, elasticvit_onnx.cpp, hiera_onnx.cpp) are written with these.
// Layouts: feature maps NCHW (B, C, H, W); token sequences (B, N, C), token n = y*W + x.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "evaluators/io/safetensors.h"

namespace onnx {
class GraphProto;
class NodeProto;
}  // namespace onnx

namespace hwnas::onnx_export {

class QdqLayers;

/// Adds nodes and initializers to a graph, with unique names for intermediate values.
class GraphBuilder {
 public:
  /// `portable`: OnnxExportOptions::portable (forms that older importers take).
  GraphBuilder(onnx::GraphProto& g, const WeightStore& w, int batch, bool portable);

  const bool portable;
  const int batch;
  /// Set while an int8 member is exported: its GEMM layers take the QDQ form (qdq.h).
  QdqLayers* int8 = nullptr;

  /// Stored tensor `name` as an initializer (added once), checked against `shape`. Throws
  /// hwnas::Error naming the tensor if it is missing or has another shape.
  std::string param(const std::string& name, const std::vector<std::int64_t>& shape);
  /// The stored tensor `name` (already checked by param()). Throws hwnas::Error if missing.
  const StoredTensor& stored(const std::string& name) const;
  /// The stored tensor `name`, checked against `shape` as param() checks it (not added).
  const StoredTensor& stored(const std::string& name, const std::vector<std::int64_t>& shape) const;
  /// A new float / int64 constant initializer of shape `dims`.
  std::string const_floats(const std::vector<std::int64_t>& dims, const std::vector<float>& v);
  std::string const_ints(const std::vector<std::int64_t>& dims, const std::vector<std::int64_t>& v);
  /// New int8 / uint8 constant initializers (quantized weights, zero points), named from `stem`.
  std::string const_int8(const std::string& stem, const std::vector<std::int64_t>& dims,
                         const std::vector<std::int8_t>& v);
  std::string const_uint8(const std::vector<std::int64_t>& dims,
                          const std::vector<std::uint8_t>& v);

  /// A node of type `op` on `in`; `out` receives the name of its (first) output.
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& in,
                        std::string& out);
  /// A node with no attributes; returns its output.
  std::string op(const std::string& op, const std::vector<std::string>& in);

  static void ints(onnx::NodeProto* n, const std::string& name, const std::vector<std::int64_t>& v);
  static void integer(onnx::NodeProto* n, const std::string& name, std::int64_t v);
  static void real(onnx::NodeProto* n, const std::string& name, float v);

 private:
  std::string fresh(const std::string& stem) { return stem + "_" + std::to_string(counter_++); }

  onnx::GraphProto& g_;
  const WeightStore& w_;
  std::set<std::string> added_;
  int counter_ = 0;
};

/// Reshape to `dims` (constant shape) and Transpose by `perm`.
std::string reshape(GraphBuilder& b, const std::string& x, const std::vector<std::int64_t>& dims);
std::string transpose(GraphBuilder& b, const std::string& x, const std::vector<std::int64_t>& perm);

/// 2-d convolution of an NCHW map with PyTorch weight `name`.weight (cout, cin/groups, k, k)
/// and, if `bias`, `name`.bias (cout); square kernel, symmetric zero padding `pad`.
std::string conv(GraphBuilder& b, const std::string& x, const std::string& name, std::int64_t cin,
                 std::int64_t cout, int k, int stride, int pad, std::int64_t groups, bool bias);
/// Inference BatchNormalization over axis 1 with `name`.{weight,bias,running_mean,running_var}
/// (c), kept (not folded) so that the exported tensors equal the stored ones.
std::string batch_norm(GraphBuilder& b, const std::string& x, const std::string& name,
                       std::int64_t c, float eps = 1e-5f);
/// x (..., in) @ W^T (+ bias) with a PyTorch Linear weight `name`.weight (out, in).
std::string linear(GraphBuilder& b, const std::string& x, const std::string& name, std::int64_t in,
                   std::int64_t out, bool bias = true);
/// x (B, in) @ W^T + bias as one Gemm (transB) with `name`.weight (out, in) and `name`.bias
/// (out), both scaled by `scale` (the Gemm's alpha and beta).
std::string classifier(GraphBuilder& b, const std::string& x, const std::string& name,
                       std::int64_t in, std::int64_t out, float scale = 1);
/// LayerNorm over the last axis of a rank-`rank` tensor with `name`.{weight,bias} (c):
/// LayerNormalization, or its ReduceMean/Sub/Mul/Add/Sqrt/Div form when portable.
std::string layer_norm(GraphBuilder& b, const std::string& x, const std::string& name,
                       std::int64_t c, float eps, int rank);
/// LayerNorm over all tokens and channels of each sample of (B, N, C) tokens
/// (F.layer_norm(x, x.shape[1:])), biased variance, then a per-channel affine `name`.{weight,bias}.
std::string sample_norm(GraphBuilder& b, const std::string& x, const std::string& name,
                        std::int64_t c, float eps);
/// GELU in PyTorch's default (erf) form: 0.5 * x * (1 + erf(x / sqrt 2)).
std::string gelu(GraphBuilder& b, const std::string& x);
/// x * relu6(x + 3) / 6 (HardSwish) and relu6(x + 3) / 6 (HardSigmoid, alpha 1/6, beta 1/2).
std::string hardswish(GraphBuilder& b, const std::string& x);
std::string hardsigmoid(GraphBuilder& b, const std::string& x);
/// NCHW (B, C, H, W) -> tokens (B, H*W, C), and back.
std::string map_to_tokens(GraphBuilder& b, const std::string& x, std::int64_t c, std::int64_t h,
                          std::int64_t w);
std::string tokens_to_map(GraphBuilder& b, const std::string& x, std::int64_t c, std::int64_t h,
                          std::int64_t w);
/// Mean over `axes`, dropping them unless `keep`.
std::string reduce_mean(GraphBuilder& b, const std::string& x,
                        const std::vector<std::int64_t>& axes, bool keep);
/// Split along `axis` into parts of `sizes`; the parts' names in order.
std::vector<std::string> split(GraphBuilder& b, const std::string& x, std::int64_t axis,
                               const std::vector<std::int64_t>& sizes);
/// The (heads, N, N) attention bias of a relative-position table `name`, bias[i][p] =
/// table[i][idx[p]] for a (heads, rows) table (`heads_first`) or table[idx[p]][i] for a
/// (rows, heads) one, p = query * N + key: a Gather of the stored table, or when portable the
/// gathered values as a constant (importers without tensor-index Gather, e.g. OpenCV 4.6).
std::string gathered_bias(GraphBuilder& b, const std::string& name, std::int64_t rows,
                          std::int64_t heads, std::int64_t n, const std::vector<std::int64_t>& idx,
                          bool heads_first);
/// Softmax over the last axis.
std::string softmax(GraphBuilder& b, const std::string& x);

}  // namespace hwnas::onnx_export
