// The records of the families compiled into hwnas, one file each
// (families/<name>_family.cpp); model_family.cpp lists them. A kind of block_kind.def names
// its family there, and builtin_block.cpp builds every such kind.
#pragma once

#include <memory>

#include "evaluators/families/model_family.h"

namespace hwnas {

/// EfficientFormer (Li et al., NeurIPS 2022): timm names, slice_efficientformer.
ModelFamily efficientformer_family();
/// ElasticViT (Tang et al., ICCV 2023): microsoft/Moonlit names, slice_elasticvit.
ModelFamily elasticvit_family();
/// Hiera (Ryali et al., ICML 2023), the blocks of the TurboViT-style space: timm names,
/// slice_hiera.
ModelFamily hiera_family();

/// The engine block of any kind of block_kind.def (one switch, no `default:`, so a kind added
/// there fails to compile until it is built here). Throws hwnas::Error for a registered kind.
std::unique_ptr<Block> make_builtin_block(const BlockSpec& spec, ParamReader& params);

}  // namespace hwnas
