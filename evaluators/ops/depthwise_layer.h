// A depthwise convolution layer of a block as the engine runs it, with a hook where quantized
// execution (evaluators/quant/: calibration, Int8Depthwise) takes the layer over, as GemmSite
// does for the GEMM layers (packed_gemm.h).
#pragma once

#include <memory>

#include "evaluators/engine/tensor.h"
#include "evaluators/ops/op_params.h"

namespace hwnas {

class DepthwiseLayer;

/// Where a depthwise layer's forward runs instead of the fp32 kernel. Called from the thread
/// running the block (never concurrently on one layer: one forward at a time per Model).
class DepthwiseSite {
 public:
  virtual ~DepthwiseSite() = default;
  /// Computes layer.forward's output (in (B,H,W,c), out (B,Ho,Wo,c) preallocated) and returns
  /// true, or returns false to let the fp32 kernel run (after observing `in`, when calibrating).
  virtual bool run(const DepthwiseLayer& layer, const Tensor& in, Tensor& out) = 0;
};

/// The parameters and weights of one depthwise layer, as the block fuses them (BatchNorm folded
/// into weight and bias in an inference model), and an optional DepthwiseSite. The weights are
/// the block's: it keeps them alive and unchanged while the layer exists. Copies share the site.
class DepthwiseLayer {
 public:
  DepthwiseLayer() = default;
  /// weight (k,k,c) row-major fp32, bias (c) or null, as depthwise_conv2d. Inside a LayerLog's
  /// scope (layer_log.h) the new layer is also logged there. Throws hwnas::Error for bad params
  /// or a null weight.
  DepthwiseLayer(const DepthwiseConv2dParams& p, const float* weight, const float* bias);

  const DepthwiseConv2dParams& params() const;
  const float* weight() const;
  const float* bias() const;  ///< null when the layer has none
  /// Routes every later forward of this layer (and its copies) to `site` (null: back to fp32).
  /// Not thread-safe against a forward running. Throws hwnas::Error on an empty layer.
  void attach_site(std::shared_ptr<DepthwiseSite> site) const;
  DepthwiseSite* site() const;
  /// out = the layer applied to in: the site's result, else depthwise_conv2d. Throws as
  /// depthwise_conv2d or the site.
  void forward(const Tensor& in, Tensor& out) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hwnas
