// Which layers a model or block made, so that quantized execution (evaluators/quant/) finds its
// GEMM and depthwise layers without every block listing them.
#pragma once

#include <vector>

#include "evaluators/ops/depthwise_layer.h"
#include "evaluators/ops/packed_gemm.h"

namespace hwnas {

/// The layers int8 can take over: GEMM weights (linear, 1x1 and im2col convolutions) and
/// depthwise convolutions, each list in the order the blocks made them.
struct QuantizableLayers {
  std::vector<PackedWeights> gemm;
  std::vector<DepthwiseLayer> depthwise;
};

/// Logs, in order, every PackedWeights and DepthwiseLayer the calling thread constructs while it
/// lives (nested logs: the innermost).
class LayerLog {
 public:
  LayerLog();
  ~LayerLog();
  LayerLog(const LayerLog&) = delete;
  LayerLog& operator=(const LayerLog&) = delete;
  QuantizableLayers& made() { return made_; }

  /// Called by the constructors: appends to the calling thread's innermost log, if any.
  static void record(const PackedWeights& w);
  static void record(const DepthwiseLayer& layer);

 private:
  QuantizableLayers made_;
  QuantizableLayers* previous_;
};

}  // namespace hwnas
