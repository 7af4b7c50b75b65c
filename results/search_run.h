// A search run from its configuration to its files: what `hwnas search` does, as a library
// call. The command only maps flags to a RunConfig and prints the report.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "search/run_config.h"
#include "search/search_runner.h"

namespace hwnas {

struct SearchRunOptions {
  /// Continue the run in the output directory: `config` must be its stored one
  /// (load_run_config), with the budget and time budget possibly extended.
  bool resume = false;
  int threads = 0;          ///< evaluation threads (0 = all cores); not part of the run's identity
  std::string agent_token;  ///< bearer token of RunConfig::agent (never stored)
  std::function<void(const Progress&)> on_progress;  ///< after each generation
  std::ostream* log = nullptr;  ///< notices, e.g. the host table being profiled first
  /// Called once the problem is built, before the first evaluation: an MPI job hands the
  /// evaluations to its worker ranks here (Problem::set_metric_evaluator).
  std::function<void(Problem&)> on_problem;
  /// The rank count of an MPI job, recorded in front.json as "ranks" (1 without MPI).
  int ranks = 1;
  /// Called with front.json's extra keys just before it is written, once the search is done:
  /// an MPI job stops its workers here and adds their supernet evaluations and seconds.
  std::function<void(nlohmann::json& summary)> on_finish;
};

struct SearchRunReport {
  RunConfig config;  ///< the configuration the run used
  SearchResult result;
  std::vector<std::string> objective_names;
  std::string space;   ///< the space's canonical name
  double seconds = 0;  ///< wall time of the search itself
  /// front.json's keys beyond the front: accuracy_source, note (no accuracy used), resumed,
  /// supernet_evaluation, accuracy_prescreen, table_fill, and the algorithm's own result.
  nlohmann::json summary = nlohmann::json::object();
  std::vector<std::string> files;  ///< what was written, relative to the output directory
};

/// The configuration stored in DIR/run.db. Throws hwnas::Error if DIR holds no run (naming
/// `hwnas search` without --resume) or its configuration is unreadable (naming the key).
RunConfig load_run_config(const std::string& dir);

/// Runs the search `config` describes and writes `out_dir`: run.db (the configuration from the
/// start, then evaluations and checkpoints, so a run killed at any point resumes), front.json,
/// report.html with members/, and generator.json for the generative search. Steps, in order:
///  1. the problem: objectives and constraints (search/problem_spec.h) on the table's latency
///     (filling missing rows through the registered backend when config.fill; when the run uses
///     latency, config.profile_missing holds, the device is "host" and the table lacks the
///     space, the host table is profiled first: profilers/host_table.h), the accuracy source
///     (predictors/accuracy_source.h) and the engine;
///  2. the algorithm (search/algorithm_registry.h) and the runner, checkpointing into run.db;
///  3. front.json, the report.
/// Throws hwnas::Error on a configuration that does not validate, an existing run without
/// `resume` (or none with it), a missing table row or device, and whatever a source throws.
SearchRunReport run_search(RunConfig config, const std::string& out_dir,
                           const SearchRunOptions& options);

/// The summary `hwnas search` prints: algorithm, space, evaluations, time and stop reason; the
/// front's size and hypervolume; where each objective came from (table fill, accuracy source,
/// supernet evaluations, pre-screening); the first five front members; the files written
/// under `out_dir`. Lines end with a newline.
std::string search_summary(const SearchRunReport& report, const std::string& out_dir);

}  // namespace hwnas
