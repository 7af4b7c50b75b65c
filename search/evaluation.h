// Evaluation: one architecture with its objective and constraint values.
#pragma once

#include <cstddef>
#include <vector>

#include "search/pareto.h"
#include "spaces/arch.h"

namespace hwnas {

struct Evaluation {
  Arch arch;
  /// Objective values in natural units (ms, MACs, top-1), in the Problem's objective order.
  std::vector<double> objectives;
  /// The same objectives turned into minimisation (maximised ones negated): what algorithms
  /// and Pareto utilities compare.
  Point fitness;
  /// Values of the constrained metrics, in the Problem's constraint order (natural units).
  std::vector<double> constraint_values;
  /// Total normalised violation: sum over constraints of max(0, (value - max) / max).
  double violation = 0.0;
  /// Per objective, the held-out images its value is a proportion over (Objective::samples; 0:
  /// not a proportion); empty when not recorded (a run stored before samples were kept).
  std::vector<std::size_t> samples;
  /// Generation of the run in which this arch was first evaluated (0: the bounds pair).
  int generation = 0;

  bool feasible() const { return violation <= 0.0; }
};

}  // namespace hwnas
