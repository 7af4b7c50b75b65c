// int8 members in ONNX as a QDQ graph: each GEMM layer (and depthwise layer) an int8 plan quantizes
// (evaluators/quant/quantization.h) reads its input through QuantizeLinear -> DequantizeLinear
// and its weights through a DequantizeLinear of int8 values, the format ONNX Runtime's static
// quantization writes ("QDQ", onnxruntime/python/tools/quantization). No QuantizeLinear follows a
// GEMM (its output stays fp32, as in the engine), so whether a runtime fuses the pattern into
// integer kernels is the runtime's choice. The rest of the graph stays fp32, as Q-HyViT's hybrid
// scheme and the engine keep it.
// The values are the engine's, so the graph computes the engine's int8 logits:
//   per-tensor activations: x -> Q(s, z) -> DQ(s, z); weights DQ(q_w, scale_j / s), axis 0;
//   per-channel activations: x -> Q(s_c, z_c) -> DQ(1, z_c) = q - z_c (integer-valued, as the
//     engine multiplies it); weights DQ(q_w, scale_j), axis 0, with s_c folded into q_w's rows
//     before they were quantized (quant_params.h), which no per-axis DequantizeLinear can undo.
// q_w is quantize_weights() of the stored (unfolded) weights; the engine quantizes them after it
// folds BatchNorm and layer scales, which scale whole output channels and so change no q_w
// (up to a rounding tie) under per-output-channel weights, the only granularity exported.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "evaluators/quant/quantization.h"
#include "results/onnx/graph_builder.h"

namespace hwnas::onnx_export {

/// A GEMM layer's two operands in the graph: its input value and its weights value.
struct GemmInputs {
  std::string x, weight;
};

/// Hands a QuantPlan's layers, in execution order (LayerQuant::order), to the GEMM layers the
/// lowerings emit, which they emit in the engine's execution order.
class QdqLayers {
 public:
  /// Throws hwnas::Error if the plan quantizes weights per tensor: the engine then quantizes
  /// BN-folded weights with one scale, which the graph's unfolded weights cannot reproduce.
  explicit QdqLayers(const QuantPlan& plan);

  /// The QDQ operands of the plan's next layer, whose weights `w` have dims (cout, cin, taps...)
  /// (a Conv's OIHW, a Linear's (out, in)) and whose input `x` has its channels on axis
  /// `channel_axis` (may be negative). `what` names the layer in errors. Throws hwnas::Error
  /// naming the layer when the plan has no layer left or its next one has another k x n or a
  /// channel count that is neither 1 nor cin.
  GemmInputs next(GraphBuilder& b, const std::string& x, int channel_axis, const std::string& what,
                  const std::vector<float>& w, const std::vector<std::int64_t>& dims);
  /// The QDQ operands of the plan's next depthwise layer (DepthwiseLayerQuant, in execution
  /// order), whose weights `w` have dims (c, 1, k, k) and whose NCHW input is `x`: per-tensor
  /// Q/DQ of x and DQ(q_w, scale_c / s) as Int8Depthwise quantizes them; a layer the plan
  /// kept fp32 (QuantPlan::depthwise_fp32, --depthwise faster), and every layer of a plan
  /// without depthwise layers, stays fp32 ({x, w as an initializer}). Throws hwnas::Error
  /// naming the layer when the plan has no depthwise layer left or its next one has another
  /// shape.
  GemmInputs next_depthwise(GraphBuilder& b, const std::string& x, const std::string& what,
                            const std::vector<float>& w, const std::vector<std::int64_t>& dims);
  /// Throws hwnas::Error if some of the plan's layers found no layer in the graph.
  void finish() const;

 private:
  // Q/DQ of x (activations a) and DQ of the s8 weights q (dims, output channel on axis 0,
  // scales wscale as quantize_weights made them).
  static GemmInputs emit(GraphBuilder& b, const std::string& x, int channel_axis,
                         const std::string& what, const ActivationQuant& a,
                         const std::vector<std::int8_t>& q, std::vector<float> wscale,
                         const std::vector<std::int64_t>& dims);

  std::vector<LayerQuant> layers_;
  // The plan's depthwise layers, quantized and kept fp32 (QuantPlan::depthwise_fp32), in
  // execution order; depthwise_int8_[i] says which.
  std::vector<DepthwiseLayerQuant> depthwise_;
  std::vector<bool> depthwise_int8_;
  std::size_t next_ = 0, next_depthwise_ = 0;
};

/// While it lives, the builder's GEMM layers stay fp32: layers the engine runs in fp32 in an
/// int8 member too (ElasticViT's squeeze-excite convolutions, ops/squeeze_excite).
class KeepFp32 {
 public:
  explicit KeepFp32(GraphBuilder& b) : b_(b), int8_(b.int8) { b.int8 = nullptr; }
  ~KeepFp32() { b_.int8 = int8_; }
  KeepFp32(const KeepFp32&) = delete;
  KeepFp32& operator=(const KeepFp32&) = delete;

 private:
  GraphBuilder& b_;
  QdqLayers* int8_;
};

/// The operands of a GEMM layer (a Conv with one group, a Linear or a classifier Gemm) whose
/// weights are the stored tensor `name` with dims `dims` (cout, cin, taps...): `x` and the
/// weights as a float initializer, or, when b.int8 is set, the layer's QDQ form (QdqLayers::next).
/// Throws hwnas::Error as GraphBuilder::param and QdqLayers::next.
GemmInputs gemm_inputs(GraphBuilder& b, const std::string& x, const std::string& name,
                       const std::vector<std::int64_t>& dims, int channel_axis);
/// The same for weights computed at export (`values`, e.g. the average of two classifiers the
/// engine runs as one layer), written under a fresh name made from `name`.
GemmInputs gemm_inputs(GraphBuilder& b, const std::string& x, const std::string& name,
                       const std::vector<float>& values, const std::vector<std::int64_t>& dims,
                       int channel_axis);

}  // namespace hwnas::onnx_export
