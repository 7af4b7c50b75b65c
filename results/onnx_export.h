// ONNX export of an engine network with its weights (opset 17), checked before it is written.
#pragma once

#include <string>

#include "evaluators/io/safetensors.h"
#include "evaluators/quant/quantization.h"
#include "spaces/network.h"

namespace onnx {
class ModelProto;
}

namespace hwnas {

/// What an export wrote.
struct OnnxExportInfo {
  std::string path;
  int nodes = 0;
  int initializers = 0;
  std::int64_t parameters = 0;  ///< values of the stored weights (parameters + BN statistics)
};

/// How the exporter lowers operators with more than one standard form.
struct OnnxExportOptions {
  int batch = 1;
  /// false: LayerNormalization (opset 17, fused by most runtimes) and the attention-bias Gather
  /// over the token grid. true: forms older importers take (OpenCV 4.6's DNN lacks
  /// LayerNormalization and tensor-index Gather): LayerNormalization as
  /// ReduceMean/Sub/Mul/Add/Sqrt/Div, and the attention bias gathered at export into a
  /// (heads, N, N) constant.
  bool portable = false;
  /// false: input "input" (batch, C, H, W) and output "logits" (batch, classes), a whole
  /// network. true: the graph of any run of blocks as a runtime times it alone (a latency-table
  /// row): input "input" in the first block's own layout (NCHW map, or (batch, N, C) tokens)
  /// and output "output" in the last block's, its shape left to ONNX shape inference.
  bool native_layouts = false;
  /// An int8 member: the plan calibrate_int8 made for this network and these weights (not
  /// owned). Its GEMM layers are written in QDQ form (results/onnx/qdq.h), so that the graph
  /// computes the engine's int8 logits; null: fp32.
  const QuantPlan* int8 = nullptr;
};

/// The input dimensions of build_onnx_model's graph for `net` (batch first): what a runtime must
/// be fed.
std::vector<std::int64_t> onnx_input_dims(const Network& net, const OnnxExportOptions& options);

/// Builds the ONNX graph (opset 17, IR version 8) of `net` with `weights`, for every space's
/// blocks: EfficientFormer (timm names), ElasticViT (the official code's names) and Hiera /
/// TurboViT-style (timm names), as Model::from_weights takes them (e.g. Model::random_weights or
/// a subnet sliced from a supernet). The graph uses standard operators only: Conv (grouped for
/// depthwise), BatchNormalization (kept, not folded, so the exported tensors equal the stored
/// ones), Relu, HardSwish, HardSigmoid, Erf-based GELU (0.5*x*(1+erf(x/sqrt 2))), AveragePool,
/// ReduceMean, ReduceMax, Sub/Add/Mul/Div/Sqrt, Reshape, Transpose, LayerNormalization, MatMul,
/// Split, Gather, Softmax, Gemm. Input "input": float (batch, C, H, W), NCHW as ONNX users
/// expect; output "logits": float (batch, classes); the output of block i (in Network order) is
/// the tensor "block<i>" (NCHW maps, (B, N, C) tokens with token n = y*W + x; lowerings.h).
/// With options.int8, the GEMM layers take the QDQ form and the graph also holds
/// QuantizeLinear and DequantizeLinear.
/// Throws hwnas::Error naming a missing or mis-shaped tensor, or a block kind without an ONNX
/// lowering, or (int8) a plan that does not fit the network's GEMM layers (qdq.h).
onnx::ModelProto build_onnx_model(const Network& net, const WeightStore& weights,
                                  const OnnxExportOptions& options = {});

/// build_onnx_model, then onnx::checker::check_model and shape inference (the inferred output
/// must be (batch, classes)), then writes `path` through a temporary file and a rename, so a
/// failed export leaves nothing behind. Throws hwnas::Error on a check failure (with the
/// checker's message) or an unwritable path.
OnnxExportInfo export_onnx(const Network& net, const WeightStore& weights, const std::string& path,
                           const OnnxExportOptions& options = {});

/// Reads an .onnx file's initializers back as a WeightStore keyed by initializer name (the
/// exporter names them after the timm parameters they hold). Throws hwnas::Error if the file is
/// missing or not an ONNX model.
WeightStore read_onnx_initializers(const std::string& path);

}  // namespace hwnas
