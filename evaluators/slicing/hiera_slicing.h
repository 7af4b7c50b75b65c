// Weight sharing in Hiera supernets (the TurboViT-style spaces): the slicing rule of
// spaces/defs/turbovit-fmnist.json "notes", the C++ twin of tools/hwnas_tools/turbovit_fmnist.py.
#pragma once

#include "evaluators/io/safetensors.h"
#include "spaces/search_space.h"

namespace hwnas {

/// The timm-named subnet state dict of `arch` (a TurboVitSpace arch) out of the union network's
/// checkpoint `supernet` (timm's flat `blocks.i`, union depths = space.largest()'s):
/// - the j-th block of stage s reads the union's block o_s + j (o_s = union blocks before s);
/// - every tensor takes the first k entries of each dimension (slice_leading: patch_embed.proj
///   [:C0, :Cin], pos_embed [:, :, :C0], norms, shortcut proj, attn.proj, MLP, norm, head
///   [:, :C3]) except attn.qkv, whose [q | k | v] output rows keep the first D of each part:
///   rows [0, D) + [Dmax, Dmax + D) + [2 Dmax, 2 Dmax + D), i.e. the first heads of q, k and v
///   whatever the head dim (hiera_blocks.md section 4: heads are head-major in each part).
/// Throws hwnas::Error if `space` is not a TurboVitSpace, naming a supernet tensor that is
/// missing or too small, or if a qkv tensor's rows are not a multiple of 3.
WeightStore slice_hiera(const SearchSpace& space, const Arch& arch, const WeightStore& supernet);

}  // namespace hwnas
