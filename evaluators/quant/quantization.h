// Post-training int8 quantization of a whole Model: calibrate the input of every GEMM layer and
// depthwise convolution on N images, choose each layer's quantization, and run the layers in
// int8 (Q-HyViT's hybrid scheme: LayerNorm, softmax, GELU / Hardswish and the attention matmuls
// stay fp32 between the int8 layers).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluators/engine/model.h"
#include "evaluators/quant/calibration.h"

namespace hwnas {

/// The quantization of one GEMM layer: the index of its weights in Model::gemm_layers() and its
/// operand shape (k inputs -> n outputs), its activations' u8 quantization, and the simulated
/// output error (mean squared, on kept calibration rows) of both granularities it was chosen
/// between (equal when the granularity was fixed).
struct LayerQuant {
  int index = 0;  ///< -1: unknown (a plan written elsewhere); the layer is found by `order`
  int order = 0;  ///< rank of the layer's first product in a forward (execution order)
  int k = 0, n = 0;
  ActivationQuant activations;
  double error_per_tensor = 0, error_per_channel = 0;
};

/// The quantization of one depthwise layer (Int8Depthwise): its index in
/// Model::depthwise_layers() (-1: unknown, found by `order`; the two agree, as depthwise layers
/// are listed in execution order), its shape, and its activations' per-tensor u8 quantization.
struct DepthwiseLayerQuant {
  int index = 0;
  int order = 0;
  int channels = 0, kernel = 0, stride = 0;
  ActivationQuant activations;
  /// With DepthwisePrecision::faster: both kernels' medians on one image at one thread
  /// (depthwise_speed.h); 0 when not timed.
  double fp32_ms = 0, int8_ms = 0;
};

/// What calibration decided for a model, enough to quantize another copy of it (each worker
/// of evaluate_accuracy builds its own Model) or to check it against the PyTorch fake-quant
/// reference (tools/hwnas_tools/fake_quant.py). Layers that no calibration forward ran (weights
/// a block packs but its fast path does not use) are absent and stay fp32.
struct QuantPlan {
  CalibrationOptions options;
  std::size_t images = 0;
  std::vector<LayerQuant> layers;
  std::vector<DepthwiseLayerQuant> depthwise;  ///< empty: every depthwise layer stays fp32
  /// With DepthwisePrecision::faster, the depthwise layers calibrated but kept fp32 because int8
  /// was not faster by the margin (their timings say by how much). Not applied; for reports.
  std::vector<DepthwiseLayerQuant> depthwise_fp32;

  int per_channel_layers() const;
  /// {"version":1,"rule":..,"percentile":..,"weights":..,"auto_granularity":..,"images":..,
  ///  "layers":[{"index","order","k","n","granularity","scale":[..],"zero_point":[..],
  ///  "error_per_tensor","error_per_channel"}],
  ///  "depthwise_precision":"fp32"|"int8"|"faster",
  ///  "depthwise":[{"index","order","channels","kernel","stride","scale":[s],"zero_point":[z],
  ///                "fp32_ms","int8_ms"}], "depthwise_fp32":[.. the same ..]}
  ///  ("depthwise" and "depthwise_fp32" may be absent, as may the timings; a plan without
  ///  "depthwise_precision" reads the older boolean "depthwise_int8").
  nlohmann::json to_json() const;
  /// Throws hwnas::Error naming the first missing or mistyped field.
  static QuantPlan from_json(const nlohmann::json& j);
};

/// The fewest calibration images accepted: fewer give ranges that are one batch's accidents.
constexpr std::size_t kMinCalibrationImages = 16;

/// Runs `images` (N, H, W, C; N >= kMinCalibrationImages) through the model in batches of
/// `batch` at one thread (so the seeded row samples do not depend on scheduling), observing
/// the input of every GEMM layer (and depthwise layer, unless options.depthwise is fp32), and
/// chooses the
/// quantization of each layer int8 applies to (Model::int8_layers: all, or the int8 blocks' of
/// a mixed-precision network). The model is left fp32.
/// Throws hwnas::Error for too few images, a wrong input shape, or as require_int8_cpu().
QuantPlan calibrate_int8(Model& model, const Tensor& images, const CalibrationOptions& options,
                         int batch = 32);
/// For each rank in execution order, the index (in Model::gemm_layers()) of the GEMM layer whose
/// first product runs at that rank, traced with one all-zero image at one thread.
std::vector<int> gemm_execution_order(Model& model);
/// Quantizes the model's layers as the plan says (weights per options.weights); later
/// forwards run them in int8 (Int8Gemm, Int8Depthwise). Layers without an index are found by
/// their execution order (a plan from the PyTorch reference, which knows its modules' order
/// only). Throws hwnas::Error if the plan does not fit the model (a layer that does not exist
/// or differs in shape) or as require_int8_cpu().
void quantize_int8(Model& model, const QuantPlan& plan);
/// Back to fp32 for every layer.
void dequantize(Model& model);

/// The calibration core of calibrate_int8 on any set of layers: observes them while `forward`
/// runs `runs` times (at the calling thread's engine threads; one for reproducible row samples)
/// and chooses each layer's quantization (depthwise layers unless options.depthwise is fp32;
/// with faster, each one timed both ways by time_depthwise_layer and kept int8 where
/// int8_depthwise_pays, else listed in QuantPlan::depthwise_fp32);
/// `images` is recorded in the plan. The plan's indices are positions in layers.gemm and
/// layers.depthwise. Throws as calibrate_int8.
QuantPlan calibrate_layers(const QuantizableLayers& layers, const std::function<void()>& forward,
                           int runs, std::size_t images, const CalibrationOptions& options);
/// The same as quantize_int8 on a set of layers.
void quantize_layers(const QuantizableLayers& layers, const QuantPlan& plan);

/// A MeasureOptions::prepare (engine/measure.h) that times the int8 engine: calibrates the
/// layers (GEMM and depthwise) on one forward of the timing input (random values; only their ranges
/// matter to the kernels' speed), quantizes them and runs one more forward, which makes the int8
/// primitives. `depthwise` says which depthwise layers are quantized, as
/// CalibrationOptions::depthwise (faster: the timings of depthwise_speed.h, one per shape for
/// the process). Throws as require_int8_cpu() when called.
std::function<void(const QuantizableLayers&, const std::function<void()>&)> int8_timing_preparer(
    DepthwisePrecision depthwise = DepthwisePrecision::int8);

}  // namespace hwnas
