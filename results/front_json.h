// front.json: the Pareto front of a search run, for people and for `hwnas export`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "search/problem.h"
#include "search/search_runner.h"

namespace hwnas {

/// Identification of a run for front.json.
struct RunInfo {
  std::string algorithm;
  std::uint64_t seed = 0;
  std::string device;
};

/// One evaluation as front.json lists it: {"arch", "objectives": {name: value} (constrained
/// metrics that are not objectives included), "feasible", and for each objective whose value is
/// a proportion over held-out images (Evaluation::samples > 0, i.e. accuracy): "samples":
/// {name: n} and "intervals": {name: [lo, hi]}, the 95 % Wilson interval (wilson_interval)}.
nlohmann::json evaluation_json(const Problem& problem, const Evaluation& e);

/// {"space", "algorithm", "seed", "device", "objectives": [{"name", "sense": "min"|"max",
///  "unit", "source"}], "constraints": [{"name", "max", "unit"}], "evaluations",
///  "failed_evaluations" (run.db holds why each failed), "hypervolume", "hypervolume_reference":
///  {"lo", "hi", "point"}, "stop_reason", "interval": {"level", "method"}, "final_rescore" (when
///  the front was re-scored), "members": [evaluation_json], plus `extra`'s keys (e.g. a slimming
///  trajectory, "references": the space's named members)}.
nlohmann::json front_to_json(const Problem& problem, const SearchResult& result,
                             const RunInfo& info, const nlohmann::json& extra);

/// Writes `j` to `path` through a temporary file in the same directory and a rename, so a
/// reader never sees half a file. Throws hwnas::Error naming the path.
void write_json_atomic(const std::string& path, const nlohmann::json& j);

}  // namespace hwnas
