// Which blocks a few-shot table measures on a new device: greedy k-center (Gonzalez 1985) over
// block features, weighted by how much of a network's latency each block carries, so that a
// small budget covers every block kind and the range of sizes, and spends most of itself where
// network errors come from (issue 18; LitePred samples its kernels for the same reason, with
// another algorithm).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "spaces/block_spec.h"
#include "spaces/network.h"

namespace hwnas {

/// The features a block is placed by, each a natural log so that sizes compare by ratio:
/// its latency on the source device (ms), MACs, bytes moved (fp32 input + output activations +
/// parameters, batch 1), input elements and output positions; plus its kind and variant.
struct BlockPoint {
  BlockKind kind{};
  double log_source_ms = 0;
  double log_macs = 0;
  double log_bytes = 0;
  double log_input = 0;
  /// log(1 + the output's positions h * w): the row count of the block's products per image,
  /// which sets how much of a product is per-call cost rather than work (issue 18, fp32 -> int8).
  double log_positions = 0;
  /// block_variant: the kind and its variant attributes ("hiera_block:mu=0,qpool=1"), for the
  /// transfer model; empty means the kind alone. The selection does not read it.
  std::string variant;
};

/// The features of `block`, whose source-device median is `source_ms` (> 0). Throws
/// hwnas::Error on a non-positive or non-finite `source_ms` and whatever block_cost throws.
BlockPoint block_point(const BlockSpec& block, double source_ms);

/// Chooses `count` more of `points` to measure, given those already measured
/// (`measured[i]`, same length). The numeric features are standardised over `points`; a kind
/// not yet measured comes before any measured kind, so the first picks cover the kinds (the
/// kind's block of largest weight first, then of largest source latency). Variants are not
/// covered first: at 1-2 % of ElasticViT's blocks that left too few picks for the sizes
/// (bench/README.md, "Block variants in the transfer model"). Then each pick is
/// the block whose weight times distance to the nearest measured or picked block of its kind is
/// largest (ties: the lowest index). `weights` (same length, >= 0; empty: all 1, plain
/// k-center) say how much each block matters, e.g. its share of sampled networks' latency
/// (usage_weights): a block no network uses is then measured last. Deterministic: no seed is
/// needed, and a later call with a larger budget and the earlier picks marked measured extends
/// the same sequence. Returns indices into `points`, in pick order; fewer than `count` when
/// every block is measured. Throws hwnas::Error when the lengths differ, a weight is negative
/// or not finite, or count < 0.
std::vector<std::size_t> choose_blocks_k_center(const std::vector<BlockPoint>& points,
                                                const std::vector<bool>& measured, int count,
                                                const std::vector<double>& weights = {});

/// How much of a network's latency each of `blocks` carries, averaged over `nets`: for each
/// network, a block's source latency (`source_ms[i]`) times its occurrences over the network's
/// block sum. A block that no network uses gets a floor of 1e-3 of the mean weight, so that it
/// can still be chosen once the used ones are covered. Throws hwnas::Error when the lengths
/// differ, and when a network's block is not in `blocks`.
std::vector<double> usage_weights(const std::vector<BlockSpec>& blocks,
                                  const std::vector<double>& source_ms,
                                  const std::vector<Network>& nets);

}  // namespace hwnas
