#include <string>
#include <vector>

#include "core/error.h"
#include "evaluators/blocks/efficientformer_blocks.h"

namespace hwnas {

std::vector<std::string> efficientformer_param_prefixes(const Network& net) {
  std::vector<std::string> out;
  int stage = 0, index = 0;
  for (std::size_t i = 0; i < net.blocks.size(); ++i) {
    const std::string st = "stages." + std::to_string(stage) + ".";
    switch (net.blocks[i].kind) {
      case BlockKind::stem:
        out.push_back("stem.");
        break;
      case BlockKind::downsample:
        ++stage;
        index = 0;
        out.push_back("stages." + std::to_string(stage) + ".downsample.");
        break;
      case BlockKind::meta4d:
      case BlockKind::meta3d:
        out.push_back(st + "blocks." + std::to_string(index++) + ".");
        break;
      case BlockKind::flatten:
        // timm's Flat module takes a `blocks` index only when attention blocks follow it.
        out.push_back(st + "blocks." + std::to_string(index) + ".");
        if (i + 1 < net.blocks.size() && net.blocks[i + 1].kind == BlockKind::meta3d) ++index;
        break;
      case BlockKind::head:
        out.push_back("");
        break;
      case BlockKind::evit_first_conv:
      case BlockKind::evit_mbconv:
      case BlockKind::evit_attention:
      case BlockKind::evit_ffn:
      case BlockKind::evit_head:
      case BlockKind::hiera_patch_embed:
      case BlockKind::hiera_block:
      case BlockKind::hiera_head:
        throw Error("efficientformer_param_prefixes: block '" + net.blocks[i].key() +
                    "' is not an EfficientFormer block");
    }
  }
  return out;
}

}  // namespace hwnas
