#include "tests/evaluators/random_supernet.h"

#include <nlohmann/json.hpp>

#include "evaluators/engine/model.h"
#include "spaces/registry.h"

namespace hwnas::test {

WeightStore random_fmnist_supernet(std::uint64_t seed) {
  const SearchSpace& space = get_space("efficientformer-fmnist");
  const auto net = [&](int num_vit) {
    return space.decode(space.from_json(nlohmann::json{{"space", "efficientformer-fmnist"},
                                                       {"embed_dims", {32, 64, 128, 192}},
                                                       {"depths", {2, 2, 4, 3}},
                                                       {"num_vit", num_vit},
                                                       {"resolution", 64}}));
  };
  WeightStore super = Model::random_weights(net(0), seed);
  // The largest arch with num_vit = 2 has Meta3D blocks at stages.3.blocks.2 and .3 (after the
  // Flat at index 1); the supernet keeps them under stages.3.meta3d.0 and .1.
  const WeightStore vit = Model::random_weights(net(2), seed + 1);
  for (const auto& [name, t] : vit.tensors)
    for (int j = 0; j < 2; ++j) {
      const std::string from = "stages.3.blocks." + std::to_string(2 + j) + ".";
      if (name.compare(0, from.size(), from) == 0)
        super.tensors["stages.3.meta3d." + std::to_string(j) + "." + name.substr(from.size())] = t;
    }
  super.metadata["space"] = "efficientformer-fmnist";
  super.metadata["format"] = "hwnas-supernet-v1";
  return super;
}

WeightStore random_union_supernet(const std::string& space_name, std::uint64_t seed) {
  const SearchSpace& space = get_space(space_name);
  WeightStore super = Model::random_weights(space.decode(space.largest()), seed);
  super.metadata["space"] = space_name;
  super.metadata["format"] = "hwnas-supernet-v1";
  return super;
}

}  // namespace hwnas::test
