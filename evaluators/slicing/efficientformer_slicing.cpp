#include "evaluators/slicing/efficientformer_slicing.h"

#include <string>
#include <utility>
#include <vector>

#include "evaluators/blocks/efficientformer_blocks.h"
#include "evaluators/slicing/supernet_slicing.h"

namespace hwnas {

// A subnet's Meta3D block at timm index "stages.3.blocks.k." reads the supernet's
// "stages.3.meta3d.j." (j-th Meta3D block of the subnet); every other name is the same in both.
WeightStore slice_efficientformer(const SearchSpace& space, const Arch& arch,
                                  const WeightStore& supernet) {
  const Network net = space.decode(arch);
  const std::vector<std::string> prefixes = efficientformer_param_prefixes(net);
  std::vector<std::pair<std::string, std::string>> renames;  // subnet prefix -> supernet prefix
  int meta3d = 0;
  for (std::size_t i = 0; i < net.blocks.size(); ++i)
    if (net.blocks[i].kind == BlockKind::meta3d) {
      const std::string& p = prefixes[i];  // "stages.S.blocks.K."
      const std::string stage = p.substr(0, p.find(".blocks."));
      renames.emplace_back(p, stage + ".meta3d." + std::to_string(meta3d++) + ".");
    }
  return slice_each_tensor(
      space, arch, supernet,
      [&](const std::string& name) {
        for (const auto& [from, to] : renames)
          if (name.compare(0, from.size(), from) == 0) return to + name.substr(from.size());
        return name;
      },
      [](const std::string&, const std::string& source_name, const StoredTensor& source,
         const std::vector<std::int64_t>& shape) {
        return slice_leading(source_name, source, shape);
      });
}

}  // namespace hwnas
