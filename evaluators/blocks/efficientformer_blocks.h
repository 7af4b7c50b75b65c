// Block factories of the EfficientFormer space (Li et al., NeurIPS 2022; timm efficientformer.py).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "evaluators/engine/block.h"
#include "spaces/network.h"

namespace hwnas {

std::unique_ptr<Block> make_stem_block(const BlockSpec& spec, ParamReader& params);
std::unique_ptr<Block> make_meta4d_block(const BlockSpec& spec, ParamReader& params);
std::unique_ptr<Block> make_downsample_block(const BlockSpec& spec, ParamReader& params);
std::unique_ptr<Block> make_flatten_block(const BlockSpec& spec, ParamReader& params);
std::unique_ptr<Block> make_meta3d_block(const BlockSpec& spec, ParamReader& params);
std::unique_ptr<Block> make_head_block(const BlockSpec& spec, ParamReader& params);

/// timm's parameter-name prefix of every block of an EfficientFormer network ("stem.",
/// "stages.2.blocks.3.", "stages.3.downsample.", "" for the head). Throws hwnas::Error naming
/// a block of another family.
std::vector<std::string> efficientformer_param_prefixes(const Network& net);

}  // namespace hwnas
