// Block factories of the Hiera / TurboViT-style space (Ryali et al., ICML 2023; timm hiera.py;
// the exact computation is in shared/golden/hiera_blocks.md).
//
// Token layout: every Hiera block keeps its tokens in spatial NHWC order (token (y, x) of the
// h x w map at row y*w + x), not timm's unrolled order. Mask units are then aligned squares of
// the map and Q-pooling a 2x2 max pool (ops/window_attention.h), so no block permutes tokens and
// a stage output is already "rerolled" (timm's stageK outputs compare element for element).
// Parameter names are timm's, relative to the prefixes of hiera_param_prefixes().
#pragma once

#include <memory>

#include "evaluators/engine/block.h"

namespace hwnas {

/// hiera_patch_embed: conv 7x7 s4 p3 (cin -> c, bias) + pos_embed. Reads
/// "patch_embed.proj.{weight,bias}" and "pos_embed" (1, ho*wo, c).
std::unique_ptr<Block> make_hiera_patch_embed_block(const BlockSpec& spec, ParamReader& params);
/// hiera_block: reads "norm1", "attn.qkv", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2" and,
/// when cin != c, "proj" (the shortcut projection).
std::unique_ptr<Block> make_hiera_block(const BlockSpec& spec, ParamReader& params);
/// hiera_head: mean over tokens, LayerNorm "norm", Linear "head.projection".
std::unique_ptr<Block> make_hiera_head_block(const BlockSpec& spec, ParamReader& params);

}  // namespace hwnas
