// Pareto utilities: dominance, non-dominated sorting, crowding distance, hypervolume, IGD.
// Every function works in *minimisation* space: callers negate maximised objectives first
// (Problem::fitness does). Points are rows of equal length.
#pragma once

#include <cstddef>
#include <vector>

namespace hwnas {

using Point = std::vector<double>;

/// True if `a` Pareto-dominates `b` (minimisation): a <= b everywhere and a < b somewhere.
bool dominates(const Point& a, const Point& b);

/// Constrained domination (Deb et al. 2002, section VI): a feasible point (violation <= 0)
/// beats an infeasible one; of two infeasible points the smaller total normalised violation
/// wins; two feasible points compare by Pareto dominance.
bool constrained_dominates(const Point& a, double violation_a, const Point& b, double violation_b);

/// Fast non-dominated sort (Deb et al. 2002, NSGA-II, O(M N^2)) under constrained domination.
/// `violations` is empty (all feasible) or one value per point. Returns the fronts in order;
/// each front lists point indices in increasing order.
std::vector<std::vector<std::size_t>> non_dominated_sort(
    const std::vector<Point>& points, const std::vector<double>& violations = {});

/// Crowding distance (Deb et al. 2002) of the members of one front: per objective, the
/// normalised distance between each member's two neighbours; boundary members get +infinity.
/// Returns one distance per entry of `front`, in the same order.
std::vector<double> crowding_distance(const std::vector<Point>& points,
                                      const std::vector<std::size_t>& front);

/// Exact hypervolume dominated by `points` and bounded by the reference point `ref`
/// (minimisation). Points not strictly better than `ref` in every objective contribute nothing.
/// 2 objectives: sweep, O(N log N); 3 objectives: slicing along the third (HSO), O(N^2 log N).
/// Throws hwnas::Error for other dimensions or mismatched lengths.
double hypervolume(const std::vector<Point>& points, const Point& ref);

/// Linear normalisation of minimisation objectives: (f - lo) / (hi - lo) per objective.
/// hypervolume_normalised uses it with the reference point (1.1, ..., 1.1): lo is the ideal
/// corner (0 after normalisation) and hi the nadir corner (1), so the box [0, 1.1]^M has volume
/// 1.1^M and a front at the ideal point scores 1.1^M.
struct Normalisation {
  Point lo;
  Point hi;
  Point apply(const Point& f) const;
};

/// The reference point used for every normalised hypervolume in hwnas (runs, tests, reports).
inline constexpr double kHypervolumeReference = 1.1;

/// Hypervolume of `points` after `norm`, reference point kHypervolumeReference in every objective.
double hypervolume_normalised(const std::vector<Point>& points, const Normalisation& norm);

/// Inverted generational distance (Coello & Reyes Sierra 2004): the mean, over the points of
/// `reference`, of the Euclidean distance to the nearest point of `front`. Throws hwnas::Error
/// if either set is empty.
double igd(const std::vector<Point>& front, const std::vector<Point>& reference);

/// Indices of the non-dominated points (plain Pareto dominance, no constraints), increasing.
std::vector<std::size_t> pareto_front_indices(const std::vector<Point>& points);

}  // namespace hwnas
