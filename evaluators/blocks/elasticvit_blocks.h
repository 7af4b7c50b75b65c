// Block factories and parameter names of the ElasticViT space (Tang et al., ICCV 2023;
// microsoft/Moonlit ElasticViT/models/{model,cnn,transformer}.py). The exact computation of each
// block is in shared/golden/elasticvit_blocks.md; BatchNorm is folded into the preceding
// convolution or linear layer at load.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "evaluators/engine/block.h"
#include "spaces/network.h"

namespace hwnas {

/// evit_first_conv: conv3x3 s2 p1 (no bias) + BN + hardswish. Reads `first_conv.weight`,
/// `first_conv_bn.*`.
std::unique_ptr<Block> make_evit_first_conv_block(const BlockSpec& spec, ParamReader& params);
/// evit_mbconv (MobileBlock): reads `pw_conv`/`pw_bn` (expand > 1 only), `dw_conv`/`dw_bn`,
/// `se_conv1`/`se_conv2` (se = 1), `pwl_conv`/`pwl_bn`, `shortcut_conv` (cin != c).
std::unique_ptr<Block> make_evit_mbconv_block(const BlockSpec& spec, ParamReader& params);
/// evit_attention: reads `norm1`, `qkv` (no bias), `dw_v_conv`, `attention_bias`
/// ((2h-1)(2w-1), heads), `proj`.
std::unique_ptr<Block> make_evit_attention_block(const BlockSpec& spec, ParamReader& params);
/// evit_ffn: reads `norm1`, `fc1`, `fc2`.
std::unique_ptr<Block> make_evit_ffn_block(const BlockSpec& spec, ParamReader& params);
/// evit_head: reads `pre_head_0`, `pre_head_norm_0` (BN), `pre_head_1`, `classifer` (the code's
/// spelling).
std::unique_ptr<Block> make_evit_head_block(const BlockSpec& spec, ParamReader& params);

/// The official code's parameter-name prefix of every block of an ElasticViT network, in block
/// order: "" (first conv, head), "conv_stem.layers.{j}.0.", "feature_exactor.{0,1}.layers.{j}.0."
/// (C1, C2), "feature_exactor.{2..5}.layers.0.reduction." (a transformer stage's entry MBConv),
/// "feature_exactor.{2..5}.layers.{2j}." / "{2j+1}." (attention / FFN of block j). A stage
/// starts at an MBConv of stride 2 (C1, C2) or at an MBConv followed by attention (T1..T4).
/// Throws hwnas::Error for a block kind outside the ElasticViT space.
std::vector<std::string> elasticvit_param_prefixes(const Network& net);

}  // namespace hwnas
