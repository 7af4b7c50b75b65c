// The per-stage precision gene (issue 19): a search space with one more choice per stage, fp32
// or int8, so that a search can trade accuracy for speed stage by stage (mixed-precision
// subnets, as HAQ and Q-HyViT argue a hybrid ViT's stages differ in how much int8 costs them).
// Off by default: the plain spaces have no such gene; `<space>+precision` (get_space) is the
// same space with it, which `hwnas search --precision mixed` searches.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "spaces/search_space.h"

namespace hwnas {

/// Suffix of a space name that turns the precision genes on ("efficientformer-fmnist+precision").
inline constexpr std::string_view kPrecisionGeneSuffix = "+precision";

/// The stage of each block of `net`, numbered from 0: a stage is a run of blocks at one
/// spatial (or token-grid) resolution, and a new one starts at each block whose output is
/// smaller than its predecessor's, except a final classifier (1 x 1 output), which stays with
/// the last stage. Every space's stages come out of this rule (EfficientFormer's four stages;
/// Hiera's four Q-pooled stages; ElasticViT's stride-2 stages).
std::vector<int> resolution_stages(const Network& net);

/// The space `base` with one precision gene per stage appended to its genes: dims
/// "precision0".."precision<S-1>", options {8, 32} (bits; int8 or fp32), where S is the stage
/// count of resolution_stages (the same for every arch of a space; checked when decoding).
/// decode() marks Network::block_int8 per block from its stage's gene; JSON has a "precision"
/// list (["fp32", "int8", ...], one per stage) beside the base space's keys. Named members are
/// the base space's, all fp32. name() is base.name() + kPrecisionGeneSuffix. The returned space
/// lives as long as the process; thread-safe. Throws hwnas::Error if `base` already has
/// precision genes.
std::unique_ptr<SearchSpace> make_precision_gene_space(const SearchSpace& base);

/// The space without precision genes (itself for a plain space).
const SearchSpace& base_space(const SearchSpace& space);
/// `arch` without its precision genes (unchanged for a plain space's arch), in base_space's
/// naming. Throws hwnas::Error if the arch has fewer genes than the base space needs.
Arch base_arch(const SearchSpace& space, const Arch& arch);
/// The stage count of a precision-gene space (0 for a plain space).
int precision_stages(const SearchSpace& space);

}  // namespace hwnas
