// BlockRunner: one block in isolation, exactly as Model runs it (for latency tables).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "evaluators/engine/block.h"
#include "evaluators/engine/tensor.h"
#include "evaluators/ops/layer_log.h"
#include "spaces/block_spec.h"

namespace hwnas {

class BlockRunner {
 public:
  /// Random weights (Model::random's init, drawn from Rng(seed)) and a random input of
  /// (batch, block_input_shape(spec)); allocates every buffer here. Throws hwnas::Error for a
  /// bad spec or batch < 1.
  BlockRunner(const BlockSpec& spec, int batch, std::uint64_t seed);
  /// One fast forward of the block (no allocation).
  void run();
  const Tensor& output() const { return output_; }
  /// The block's GEMM and depthwise layers (as Model::gemm_layers(), depthwise_layers()).
  const QuantizableLayers& layers() const { return layers_; }

 private:
  std::unique_ptr<Block> block_;
  QuantizableLayers layers_;
  Tensor input_, output_;
};

}  // namespace hwnas
