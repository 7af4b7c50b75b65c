// Hiera networks (mask unit attention + Q-pooling) from a per-stage configuration: the decoder
// behind the TurboViT-style space, and a direct decoder of timm's Hiera arguments.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spaces/network.h"

namespace hwnas {

/// A Hiera classifier (Ryali et al., ICML 2023; timm hiera.py; golden/hiera_blocks.md).
/// Per-stage vectors all have the same length (4 in Hiera and TurboViT).
struct HieraConfig {
  int resolution = 224;  ///< square input side in pixels
  int in_channels = 3;
  int num_classes = 1000;
  std::vector<int> widths;           ///< channels per stage (the patch embedding has widths[0])
  std::vector<int> heads;            ///< attention heads per stage (widths[s] % heads[s] == 0)
  std::vector<int> depths;           ///< blocks per stage (>= 1)
  std::vector<int> mlp_ratios;       ///< MLP hidden = ratio * width, per stage
  std::vector<bool> mask_unit_attn;  ///< per stage: attention inside mask units (else global)
  int mask_unit = 8;  ///< mask-unit side in tokens at stage 1 (halves at each Q-pool)
  int q_pool = 3;     ///< number of stage transitions (from the first) that Q-pool 2x2
};

/// hiera_patch_embed, then per block a hiera_block, then hiera_head. Block i is the first of
/// its stage when block i-1 ends a stage: it changes width/heads and, among the first q_pool
/// transitions, Q-pools (halving the map and the mask unit). As in the code, block i uses the
/// mask-unit flag of the stage of block i-1 (one-block lag). Throws hwnas::Error on
/// inconsistent vectors or a mask unit that does not tile the token map.
Network hiera_network(const HieraConfig& config, const std::string& space);

/// The config of timm's Hiera(**kwargs) as golden/hiera_small.json's "arch" object states it:
/// {"img_size": [224, 224], "embed_dim", "num_heads", "stages": [4], "q_pool",
///  "mask_unit_attn": [4 bools], "q_stride": [2, 2], "mask_unit_size": [s, s], "dim_mul",
///  "head_mul", "patch_kernel": [7, 7], "patch_stride": [4, 4], "patch_padding": [3, 3],
///  "mlp_ratio", ...}. Widths and heads multiply by dim_mul / head_mul at each stage.
/// Throws hwnas::Error on a missing key or a setting hwnas cannot express (other patch
/// geometry, q_stride other than 2x2, non-square sizes).
HieraConfig hiera_config_from_timm(const nlohmann::json& arch);

}  // namespace hwnas
