#include "evaluators/slicing/hiera_slicing.h"

#include <string>
#include <vector>

#include "core/error.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "spaces/turbovit_space.h"

namespace hwnas {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// attn.qkv (3 * Dmax[, Din_max]) -> (3 * D[, Din]): viewed as (3, Dmax[, Din_max]), the first
// D rows (and Din columns) of each of q, k, v.
StoredTensor slice_qkv(const std::string& name, const StoredTensor& t,
                       const std::vector<std::int64_t>& shape) {
  if (t.shape.empty() || t.shape[0] % 3 != 0 || shape.empty() || shape[0] % 3 != 0)
    throw Error("supernet tensor '" + name + "' is not a [q | k | v] tensor (first dimension " +
                (t.shape.empty() ? std::string("missing") : std::to_string(t.shape[0])) +
                " is not a multiple of 3)");
  StoredTensor parts = t;
  parts.shape.insert(parts.shape.begin(), 3);
  parts.shape[1] /= 3;
  std::vector<std::int64_t> want = shape;
  want.insert(want.begin(), 3);
  want[1] /= 3;
  StoredTensor out = slice_leading(name, parts, want);
  out.shape = shape;
  return out;
}

}  // namespace

WeightStore slice_hiera(const SearchSpace& space, const Arch& arch, const WeightStore& supernet) {
  const auto* turbovit = dynamic_cast<const TurboVitSpace*>(&space);
  if (turbovit == nullptr)
    throw Error("Hiera slicing needs a TurboViT-style space, not '" + space.name() + "'");
  const std::vector<int> depths = turbovit->hiera_config(arch).depths;
  const std::vector<int> union_depths = turbovit->hiera_config(space.largest()).depths;
  // Subnet block index -> union block index, stage by stage.
  std::vector<int> source_block;
  int union_offset = 0;
  for (std::size_t s = 0; s < depths.size(); ++s) {
    for (int j = 0; j < depths[s]; ++j) source_block.push_back(union_offset + j);
    union_offset += union_depths[s];
  }
  return slice_each_tensor(
      space, arch, supernet,
      [&](const std::string& name) {
        if (name.compare(0, 7, "blocks.") != 0) return name;
        const std::size_t dot = name.find('.', 7);
        const int index = std::stoi(name.substr(7, dot - 7));
        return "blocks." + std::to_string(source_block.at(static_cast<std::size_t>(index))) +
               name.substr(dot);
      },
      [](const std::string& name, const std::string& source_name, const StoredTensor& source,
         const std::vector<std::int64_t>& shape) {
        return ends_with(name, "attn.qkv.weight") || ends_with(name, "attn.qkv.bias")
                   ? slice_qkv(source_name, source, shape)
                   : slice_leading(source_name, source, shape);
      });
}

}  // namespace hwnas
