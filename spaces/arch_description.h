// What `hwnas describe` prints: an architecture's blocks with their parameters and MACs.
#pragma once

#include <nlohmann/json.hpp>

#include "spaces/search_space.h"

namespace hwnas {

/// {"space", "arch" (to_json), "params", "macs", "blocks": [{"key", "params", "macs"}], the
/// space's extra_metrics (e.g. reference_mflops), and "member" when `arch` is a named member}.
/// params and MACs at batch 1 as BlockCost counts them (spaces/block_spec.h). Throws
/// hwnas::Error if the arch does not belong to the space.
nlohmann::json describe_arch(const SearchSpace& space, const Arch& arch);

}  // namespace hwnas
