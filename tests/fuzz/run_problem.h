// The search problem the run-directory fuzz targets read runs with: efficientformer-fmnist,
// minimising MACs and parameters, parameters bounded. Seeds are written for it (the objective
// and constraint names in run.db must match for a checkpoint to load).
#pragma once

#include <memory>

#include "search/objective.h"
#include "search/problem.h"
#include "spaces/registry.h"

namespace hwnas::fuzz {

inline Problem& run_problem() {
  static Problem problem = [] {
    const SearchSpace& space = get_space("efficientformer-fmnist");
    auto macs = std::make_shared<MacsObjective>(space, Sense::minimize);
    auto params = std::make_shared<ParamsObjective>(space);
    return Problem(space, {macs, params}, {Constraint{params, 2e6}});
  }();
  return problem;
}

}  // namespace hwnas::fuzz
