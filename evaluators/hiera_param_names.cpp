#include "evaluators/hiera_param_names.h"

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
      default:
        throw Error("hiera parameter names: block '" + b.key() + "' of space '" + net.space +
                    "' is not a Hiera block; build Hiera networks with hiera_network()");
    }
  }
  return out;
}

}  // namespace hwnas
