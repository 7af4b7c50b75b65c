#include "evaluators/ops/layer_log.h"

namespace hwnas {

namespace {
thread_local QuantizableLayers* innermost = nullptr;
}  // namespace

LayerLog::LayerLog() : previous_(innermost) { innermost = &made_; }
LayerLog::~LayerLog() { innermost = previous_; }

void LayerLog::record(const PackedWeights& w) {
  if (innermost) innermost->gemm.push_back(w);
}

void LayerLog::record(const DepthwiseLayer& layer) {
  if (innermost) innermost->depthwise.push_back(layer);
}

}  // namespace hwnas
