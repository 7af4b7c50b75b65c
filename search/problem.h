// Problem: the objectives and constraints of a search, evaluated in parallel.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "search/evaluation.h"
#include "search/objective.h"
#include "spaces/search_space.h"

namespace hwnas {

/// An upper bound on a metric (e.g. latency <= 5 ms). The metric need not be an objective.
struct Constraint {
  std::shared_ptr<Objective> metric;
  double max_value = 0.0;  ///< in metric->unit(); must be > 0
};

/// Metric values of a batch of archs, in Problem's metric order.
struct MetricValues {
  /// values[k][i]: metric k of arch i in its natural unit; NaN where arch i failed.
  std::vector<std::vector<double>> values;
  /// failures[i]: why arch i's evaluation failed (EvaluationFailure's message); empty: it did
  /// not. Either empty (none failed) or one entry per arch.
  std::vector<std::string> failures;
};

/// Objectives plus constraints. Metrics with the same name are evaluated once (a latency
/// objective also serves a latency constraint).
class Problem {
 public:
  /// Throws hwnas::Error on no objective, duplicate objective names, a constraint bound <= 0
  /// or a metric name reused with a different meaning.
  Problem(const SearchSpace& space, std::vector<std::shared_ptr<Objective>> objectives,
          std::vector<Constraint> constraints = {});

  const SearchSpace& space() const { return space_; }
  const std::vector<std::shared_ptr<Objective>>& objectives() const { return objectives_; }
  const std::vector<Constraint>& constraints() const { return constraints_; }
  std::vector<Sense> senses() const;
  std::vector<std::string> objective_names() const;
  /// The single objective an evolution ranks by: `requested` when >= 0 (throws hwnas::Error,
  /// prefixed with `algorithm`, if no such objective exists), else the first maximised
  /// objective (accuracy), else objective 0.
  int target_objective(int requested, const std::string& algorithm) const;
  /// Index of the objective called `name`, or -1.
  int objective_index(const std::string& name) const;
  /// True when every metric is deterministic.
  bool deterministic() const;

  /// Evaluates `archs` (all valid): the metric values from the metric evaluator when one is
  /// set (e.g. MPI ranks, distributed/mpi_evaluation.h), else from evaluate_metrics here. An
  /// arch whose evaluation failed (MetricValues::failures) comes back as a failed Evaluation
  /// (make_failed_evaluation). Throws what the metrics throw, EvaluationFailure excepted.
  std::vector<Evaluation> evaluate(const std::vector<Arch>& archs, int generation);

  /// Number of distinct metrics (objectives and constraints, each name once).
  std::size_t metric_count() const { return metrics_.size(); }
  /// values[k][i]: metric k for archs[i], computed in this process in the calling TBB arena:
  /// each arch is decoded once and every NetworkObjective runs on it in parallel; other metrics
  /// get the whole batch. Values do not depend on the thread count, nor, for deterministic
  /// metrics, on which other archs share the batch. A metric whose batch throws
  /// EvaluationFailure is asked again one arch at a time, so that only the archs that fail on
  /// their own are marked failed (their values NaN). Throws what the metrics throw otherwise.
  MetricValues evaluate_metrics(const std::vector<Arch>& archs);

  /// Computes evaluate_metrics' values elsewhere: (archs, generation) -> values and failures.
  using MetricEvaluator = std::function<MetricValues(const std::vector<Arch>&, int generation)>;
  /// Routes evaluate() through `evaluator`; an empty one restores local evaluation.
  void set_metric_evaluator(MetricEvaluator evaluator) { remote_ = std::move(evaluator); }

  /// Builds an Evaluation from stored values (fitness and violation recomputed).
  Evaluation make_evaluation(Arch arch, std::vector<double> objectives,
                             std::vector<double> constraint_values, int generation) const;
  /// A failed Evaluation of `arch` (Evaluation::failure = `failure`, non-empty): NaN objective
  /// and constraint values, failed_fitness as every fitness and as the violation.
  Evaluation make_failed_evaluation(Arch arch, std::string failure, int generation) const;

 private:
  const SearchSpace& space_;
  std::vector<std::shared_ptr<Objective>> objectives_;
  std::vector<Constraint> constraints_;
  std::vector<std::shared_ptr<Objective>> metrics_;  // unique by name
  std::vector<std::size_t> objective_metric_;        // objective -> metric
  std::vector<std::size_t> constraint_metric_;       // constraint -> metric
  MetricEvaluator remote_;
};

}  // namespace hwnas
