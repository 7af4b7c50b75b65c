// Evaluation: one architecture with its objective and constraint values.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "search/pareto.h"
#include "spaces/arch.h"

namespace hwnas {

/// The fitness and violation of a failed evaluation, per objective: the largest finite double,
/// not infinity, so that crowding distances stay defined and JSON states round-trip.
inline constexpr double failed_fitness = std::numeric_limits<double>::max();

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
  /// Why the evaluation failed (hwnas::EvaluationFailure's message); empty when it succeeded.
  /// A failed evaluation has NaN objectives and constraint values, the worst fitness
  /// (failed_fitness) and violation, so it ranks below every evaluated arch, never enters the
  /// Pareto front or the hypervolume, and is never asked again.
  std::string failure;

  bool failed() const { return !failure.empty(); }
  bool feasible() const { return violation <= 0.0 && failure.empty(); }
};

}  // namespace hwnas
