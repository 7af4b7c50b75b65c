// ElasticViT's weight-sharing rule (Tang et al., ICCV 2023; microsoft/Moonlit ElasticViT
// FusedSuperNet.set_arch): how a subnet's tensors are cut out of the supernet's.
#pragma once

#include "evaluators/io/safetensors.h"
#include "spaces/search_space.h"

namespace hwnas {

/// The subnet of `arch` (spaces `elasticvit`, `elasticvit-fmnist`) as a state dict under the
/// official code's names (what Model::from_weights reads), sliced from `supernet`, which holds
/// the same names for the union network (golden/elasticvit_blocks.md, "Supernet -> subnet
/// slicing"). A subnet with stage depth d reads the supernet's first d blocks under the same
/// names; every tensor takes slice_leading() (first k channels, centre k x k of a 5x5 depthwise
/// kernel), except
/// - `qkv.weight` (heads*(2*16 + dv), C) takes rows [0, h*16) ++ [C_max, C_max + h*16) ++
///   [2*C_max, 2*C_max + h*dv) and columns [:C], C_max = the supernet tensor's column count,
///   h = C / head_dim (the definition's fixed "head_dim", 16);
/// - `attention_bias` ((2G-1)^2, h) takes the centre (2G-1) x (2G-1) of the supernet's
///   (2R-1) x (2R-1) grid of offsets and its first h columns (heads).
/// The supernet's extents are read from its tensors, so a union network larger than the
/// space's largest subnet (as the official checkpoint's) slices the same way. Throws
/// hwnas::Error naming the supernet tensor that is missing or too small for the subnet, or if
/// `space` is not an ElasticVitSpace.
WeightStore slice_elasticvit(const SearchSpace& space, const Arch& arch,
                             const WeightStore& supernet);

}  // namespace hwnas
