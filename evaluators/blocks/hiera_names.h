// Parameter-name prefixes of Hiera networks (the TurboViT-style space), as timm's hiera.py names
// its state dict.
#pragma once

#include <string>
#include <vector>

#include "spaces/network.h"

namespace hwnas {

/// One prefix per block of `net`: "" for hiera_patch_embed (whose tensors are the top-level
/// "patch_embed.proj.*" and "pos_embed") and hiera_head ("norm.*", "head.projection.*"),
/// "blocks.<i>." for the i-th hiera_block (counted over the whole network, as timm's flat
/// `blocks` list). Throws hwnas::Error on a block kind outside the Hiera blocks.
std::vector<std::string> hiera_param_prefixes(const Network& net);

}  // namespace hwnas
