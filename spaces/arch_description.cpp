#include "spaces/arch_description.h"

namespace hwnas {

nlohmann::json describe_arch(const SearchSpace& space, const Arch& arch) {
  const Network net = space.decode(arch);
  nlohmann::json blocks = nlohmann::json::array();
  for (const auto& b : net.blocks) {
    const BlockCost c = block_cost(b);
    blocks.push_back({{"key", b.key()}, {"params", c.params}, {"macs", c.macs}});
  }
  nlohmann::json out = {{"space", space.name()},
                        {"arch", space.to_json(arch)},
                        {"params", net.params()},
                        {"macs", net.macs()},
                        {"blocks", blocks}};
  // Held by name: items() only refers to the object it iterates.
  const nlohmann::json extra = space.extra_metrics(arch);
  for (const auto& [k, v] : extra.items()) out[k] = v;
  const std::string member = space.member_name(arch);
  if (!member.empty()) out["member"] = member;
  return out;
}

}  // namespace hwnas
