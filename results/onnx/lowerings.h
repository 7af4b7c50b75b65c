// The ONNX lowering of each block family: the block's standard-operator graph, from its input
// value to its output value. One file per family, as the engine keeps one file per block.
#pragma once

#include <string>

#include "results/onnx/graph_builder.h"
#include "spaces/block_spec.h"

namespace hwnas::onnx_export {

/// How a value between blocks is laid out: an NCHW feature map or (B, N, C) tokens.
enum class Layout { map, tokens };

/// The layout block kind `kind` reads, and the one it writes (a head's logits are (B, classes)
/// and count as tokens). The exporter converts between blocks where they differ.
Layout input_layout(BlockKind kind);
Layout output_layout(BlockKind kind);

/// Each lowers one block of its family (`prefix`: the block's parameter-name prefix,
/// evaluators' param_prefixes) and returns the output's name, or "" for a kind of another
/// family. Throws hwnas::Error naming a missing or mis-shaped weight.
/// EfficientFormer (timm efficientformer.py): stem, downsample, meta4d, flatten, meta3d, head.
std::string lower_efficientformer(GraphBuilder& b, const BlockSpec& s, const std::string& prefix,
                                  const std::string& x);
/// ElasticViT (shared/golden/elasticvit_blocks.md): first conv, MBConv, attention, FFN, head.
std::string lower_elasticvit(GraphBuilder& b, const BlockSpec& s, const std::string& prefix,
                             const std::string& x);
/// Hiera (shared/golden/hiera_blocks.md): patch embedding, mask unit attention block, head.
std::string lower_hiera(GraphBuilder& b, const BlockSpec& s, const std::string& prefix,
                        const std::string& x);

}  // namespace hwnas::onnx_export
