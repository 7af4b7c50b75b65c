// A finished (or interrupted) search run read back from its directory, for exports and reports.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/run_store.h"
#include "search/run_config.h"

namespace hwnas {

/// Everything `hwnas search --out DIR` left: DIR/run.db (settings, evaluations, generations) and
/// DIR/front.json (the Pareto front with objective names, senses and units).
struct RunData {
  std::string dir;
  RunConfig config;      ///< the run's configuration, as run.db stores it
  nlohmann::json front;  ///< front.json
  std::vector<StoredEvaluation> evaluations;
  std::vector<GenerationSummary> generations;

  /// Objective names in front.json order (e.g. {"latency", "macs"}).
  std::vector<std::string> objective_names() const;
  /// Whether an evaluation's arch is one of the front members.
  bool on_front(const StoredEvaluation& e) const;
};

/// Reads the run in `dir`. Throws hwnas::Error if the directory does not exist, holds no
/// run.db, run.db is not an hwnas run, or front.json is missing or malformed (naming the file
/// and suggesting `hwnas search --resume --out DIR` to finish an interrupted run), or a field
/// that exports read has the wrong type (front.json's space, algorithm, device, objectives,
/// members, hypervolume, seed), or the stored configuration does not read
/// (RunConfig::from_json).
RunData load_run(const std::string& dir);

}  // namespace hwnas
