// Block factories of the EfficientFormer space (Li et al., NeurIPS 2022; timm efficientformer.py).
#pragma once

#include <memory>

#include "evaluators/engine/block.h"

namespace hwnas {

std::unique_ptr<Block> make_stem_block(const BlockSpec& spec, ParamReader& params);
std::unique_ptr<Block> make_meta4d_block(const BlockSpec& spec, ParamReader& params);
std::unique_ptr<Block> make_downsample_block(const BlockSpec& spec, ParamReader& params);
std::unique_ptr<Block> make_flatten_block(const BlockSpec& spec, ParamReader& params);
std::unique_ptr<Block> make_meta3d_block(const BlockSpec& spec, ParamReader& params);
std::unique_ptr<Block> make_head_block(const BlockSpec& spec, ParamReader& params);

}  // namespace hwnas
