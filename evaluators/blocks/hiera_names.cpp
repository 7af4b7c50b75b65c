#include "evaluators/blocks/hiera_names.h"

#include "core/error.h"

namespace hwnas {

std::vector<std::string> hiera_param_prefixes(const Network& net) {
  std::vector<std::string> out;
  int index = 0;
  for (const auto& b : net.blocks) {
    switch (b.kind) {
      case BlockKind::hiera_patch_embed:
      case BlockKind::hiera_head:
        out.push_back("");
        break;
      case BlockKind::hiera_block:
        out.push_back("blocks." + std::to_string(index++) + ".");
        break;
      case BlockKind::stem:
      case BlockKind::meta4d:
      case BlockKind::downsample:
      case BlockKind::flatten:
      case BlockKind::meta3d:
      case BlockKind::head:
      case BlockKind::evit_first_conv:
      case BlockKind::evit_mbconv:
      case BlockKind::evit_attention:
      case BlockKind::evit_ffn:
      case BlockKind::evit_head:
        throw Error("hiera parameter names: block '" + b.key() + "' of space '" + net.space +
                    "' is not a Hiera block; build Hiera networks with hiera_network()");
    }
  }
  return out;
}

}  // namespace hwnas
