// From the run's words to a Problem: the objective list ("latency,accuracy", "macs:min", ...)
// and the constraints (latency, MACs, parameters). The metrics are built here by name; where
// the latency and accuracy come from is the caller's (the run: a table, a supernet, ...).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "evaluators/engine/measure.h"
#include "predictors/accuracy_predictor.h"
#include "predictors/latency_predictor.h"
#include "search/objective.h"
#include "search/problem.h"

namespace hwnas {

/// One item of an objective list: NAME or NAME:min|max.
struct ObjectiveSpec {
  std::string name;            ///< latency | latency-measured | macs | params | accuracy
  std::optional<Sense> sense;  ///< given by the user; else the metric's own
};

/// The metric names the list may use, in a fixed order.
const std::vector<std::string>& objective_names();

/// Parses "a,b:min,...". Throws hwnas::Error on an empty list, an unknown name (listing the
/// known ones) or an item that is not NAME or NAME:min|max.
std::vector<ObjectiveSpec> parse_objective_list(const std::string& list);

/// Where the metrics that need outside data get it; each is called at most once, and only
/// when the problem uses that metric.
struct MetricSources {
  /// "latency": the lookup-table predictor.
  std::function<std::shared_ptr<const LatencyPredictor>()> latency_table;
  /// "accuracy": the accuracy predictor (throws hwnas::Error when the run has none).
  std::function<std::shared_ptr<AccuracyPredictor>()> accuracy;
  /// "latency-measured": engine threads, batch, timing and seed of the end-to-end timing.
  MeasureOptions measure;
};

/// Constraints as the run states them (0 = none).
struct ConstraintLimits {
  double latency_max_ms = 0;  ///< on "latency", or on "latency-measured" when only that is used
  double macs_max = 0;
  double params_max = 0;
};

/// The Problem over `space`: the objectives of `list` in order, and the constraints of
/// `limits`, sharing one metric object per name. MACs are maximised unless written macs:min (a
/// proxy of capacity when there is no accuracy); a sense the metric cannot take is an error.
/// Throws hwnas::Error on a bad list, a negative limit, or what a source throws.
Problem make_problem(const SearchSpace& space, const std::string& list,
                     const ConstraintLimits& limits, const MetricSources& sources);

}  // namespace hwnas
