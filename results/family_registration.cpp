#include "results/family_registration.h"

#include "core/error.h"

namespace hwnas {

std::vector<BlockKind> register_family(FamilyRegistration family) {
  const std::string name = family.engine.name;
  if (name.empty()) throw Error("register_family: the family needs a name");
  for (const auto& known : model_family_names())
    if (known == name)
      throw Error("register_family: model family '" + name + "' is already registered");
  for (const auto& kind : family.kinds) {
    BlockKind unused{};
    bool taken = find_registered_block_kind(kind.name, &unused);
    for (std::size_t i = 0; i < kBlockKindCount && !taken; ++i)
      taken = block_kind_name(static_cast<BlockKind>(i)) == kind.name;
    if (taken)
      throw Error("register_family: family '" + name + "': block kind '" + kind.name +
                  "' already exists");
  }
  const auto spaces = space_names();
  for (const auto& [space, factory] : family.spaces)
    for (const auto& s : spaces)
      if (s == space)
        throw Error("register_family: family '" + name + "': search space '" + space +
                    "' already exists");

  std::vector<BlockKind> kinds;
  for (auto& kind : family.kinds) {
    kind.family = name;
    kinds.push_back(register_block_kind(std::move(kind)));
  }
  register_model_family(std::move(family.engine));
  if (family.onnx.lower) {
    family.onnx.family = name;
    onnx_export::register_onnx_lowering(std::move(family.onnx));
  }
  for (auto& [space, factory] : family.spaces) register_space(space, std::move(factory));
  return kinds;
}

}  // namespace hwnas
