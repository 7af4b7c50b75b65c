// The problem a search run evaluates, with the sources behind its metrics: built once by
// run_search, and once per worker rank of an MPI job from the same RunConfig, so that every
// process computes the same values.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "predictors/accuracy_source.h"
#include "predictors/filling_lut_predictor.h"
#include "predictors/latency_predictor.h"
#include "search/problem.h"
#include "search/run_config.h"

namespace hwnas {

struct SearchProblem {
  /// The problem of `config` (validated): objectives and constraints (search/problem_spec.h)
  /// on the table's latency (filling missing rows through the registered backend when
  /// config.fill; when `profile` holds, config.profile_missing holds, the device is "host" and
  /// the table lacks the space, the host table is profiled first, logged to `log`), the
  /// accuracy source (predictors/accuracy_source.h) and the engine. Sources are built only when
  /// a metric asks for them, so a search on MACs and parameters needs no table. Throws
  /// hwnas::Error naming what is missing (table, device, supernet, dataset) or malformed.
  SearchProblem(const RunConfig& config, const std::string& agent_token, bool profile,
                std::ostream* log);
  SearchProblem(const SearchProblem&) = delete;
  SearchProblem& operator=(const SearchProblem&) = delete;

  std::shared_ptr<const LatencyPredictor> lut;         ///< when a metric uses the table
  std::shared_ptr<const FillingLutPredictor> filling;  ///< with config.fill
  AccuracySource accuracy;                             ///< when a metric uses accuracy
  std::string objective_list;                          ///< config.objective_list()
  std::optional<Problem> problem;                      ///< always set after construction
};

/// For a run in precision int8-dwfaster: takes the depthwise timings stored with its table's
/// rows (calibration kKernelChoices of config.device in config.db) as this process's
/// (remember_depthwise_speeds), so that the subnets it scores, re-scores or exports choose each
/// depthwise layer as the rows that priced them did. SearchProblem calls it once the table is
/// open; the export and the held-out re-scoring call it before they calibrate. Does nothing for
/// other precisions, or for a table without stored timings (one profiled before they were
/// stored). Throws hwnas::Error if config.db is missing ("run it where the search ran") or its
/// stored timings are malformed.
void adopt_run_depthwise_choices(const RunConfig& config);

}  // namespace hwnas
