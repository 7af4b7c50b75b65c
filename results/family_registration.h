// Adding a model family at run time: one record with every layer's part, registered in one
// call. The families compiled into hwnas have the same parts in their layers' built-in lists
// (block_kind.def, evaluators/families/<name>_family.cpp, results/onnx/onnx_lowering.cpp,
// spaces/registry.cpp); EXTENDING.md, "Adding a model family", is the checklist for both ways.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "evaluators/families/model_family.h"
#include "results/onnx/onnx_lowering.h"
#include "spaces/block_kind_registry.h"
#include "spaces/registry.h"

namespace hwnas {

struct FamilyRegistration {
  /// The engine's record; its name is the family's name everywhere below.
  ModelFamily engine;
  /// The family's block kinds (spaces/block_kind_registry.h); `family` may be left empty.
  std::vector<BlockKindDef> kinds;
  /// The family's search spaces, by name (spaces/registry.h).
  std::vector<std::pair<std::string, SpaceFactory>> spaces;
  /// Its ONNX lowering; `family` may be left empty. Without `lower` none is registered, and
  /// ONNX export of the family's networks fails naming the family.
  onnx_export::OnnxLowering onnx;
};

/// Registers every part of `family`: its kinds, engine record, ONNX lowering and spaces. All
/// names are checked first, so a clash registers nothing. Returns the new kinds' BlockKind
/// values in the order given. Thread-safe per part. Throws hwnas::Error naming the clashing
/// family, kind or space, or a missing function.
std::vector<BlockKind> register_family(FamilyRegistration family);

}  // namespace hwnas
