// Parameter names of microsoft/Moonlit's ElasticViT (FusedSuperNet's module tree).
#include <algorithm>
#include <string>

#include "core/error.h"
#include "evaluators/blocks/elasticvit_blocks.h"

namespace hwnas {

std::vector<std::string> elasticvit_param_prefixes(const Network& net) {
  std::vector<std::string> out;
  // stage: -1 = conv_stem, 0/1 = C1/C2, 2..5 = T1..T4 (the code's feature_exactor index).
  int stage = -1, layer = 0;
  for (std::size_t i = 0; i < net.blocks.size(); ++i) {
    const BlockSpec& b = net.blocks[i];
    switch (b.kind) {
      case BlockKind::evit_first_conv:
      case BlockKind::evit_head:
        out.push_back("");
        break;
      case BlockKind::evit_mbconv: {
        const bool entry =
            i + 1 < net.blocks.size() && net.blocks[i + 1].kind == BlockKind::evit_attention;
        if (entry || b.get("stride") > 1) {
          // T1 follows C2 (stage 1); T2's entry has stride 1 but is still an entry.
          stage = entry ? std::max(stage + 1, 2) : stage + 1;
          layer = 0;
        }
        const std::string st = "feature_exactor." + std::to_string(stage) + ".layers.";
        if (entry)
          out.push_back(st + "0.reduction.");
        else if (stage < 0)
          out.push_back("conv_stem.layers." + std::to_string(layer++) + ".0.");
        else
          out.push_back(st + std::to_string(layer++) + ".0.");
        break;
      }
      case BlockKind::evit_attention:
      case BlockKind::evit_ffn:
        out.push_back("feature_exactor." + std::to_string(stage) + ".layers." +
                      std::to_string(layer++) + ".");
        break;
      case BlockKind::stem:
      case BlockKind::meta4d:
      case BlockKind::downsample:
      case BlockKind::flatten:
      case BlockKind::meta3d:
      case BlockKind::head:
      case BlockKind::hiera_patch_embed:
      case BlockKind::hiera_block:
      case BlockKind::hiera_head:
        throw Error("elasticvit_param_prefixes: block '" + b.key() +
                    "' is not an ElasticViT block");
    }
  }
  return out;
}

}  // namespace hwnas
