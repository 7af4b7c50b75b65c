// Network: the phenotype of an architecture, an input shape plus ordered blocks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "spaces/block_spec.h"

namespace hwnas {

/// A decoded architecture. The input is NHWC (batch 1, H, W, 3 for images); blocks run in order,
/// each consuming the previous one's output. Counters are computed from the specs alone.
struct Network {
  std::string space;
  FeatureShape input;  ///< h, w, c of the image (c: its channels, 3 for RGB, 1 for grey)
  std::vector<BlockSpec> blocks;
  /// Per block, 1 where a precision gene (spaces/precision_genes.h) puts it in int8, 0 in
  /// fp32; empty when the arch has no precision genes, and then the run's precision applies to
  /// every block. Latency tables and the engine read it; block specs and counters ignore it.
  std::vector<std::uint8_t> block_int8;

  /// Learnable parameters, summed over blocks (see BlockCost).
  std::int64_t params() const;
  /// Multiply-accumulates at batch 1 (see BlockCost).
  std::int64_t macs() const;
  /// Bytes of fp32 activations written by all blocks at batch 1 (sum of block output sizes).
  std::int64_t activation_bytes() const;
  /// Number of output classes (the last block's `classes` attribute).
  int num_classes() const;

  /// Throws hwnas::Error if a block's input shape does not match the previous block's output.
  void check_shapes() const;
};

}  // namespace hwnas
