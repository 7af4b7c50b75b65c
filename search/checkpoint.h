// CheckpointSink: where SearchRunner saves each generation (implemented by results/RunStore;
// search/ may not include results/, so the runner sees only this interface).
#pragma once

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "search/evaluation.h"

namespace hwnas {

/// What the runner saves after each generation.
struct GenerationRecord {
  int generation = 0;
  std::vector<Evaluation> new_evaluations;  ///< archs first evaluated in this generation
  /// Archs evaluated before whose stored objectives are replaced (front confirmation of
  /// provisional, surrogate-estimated values; see RunnerOptions::provisional).
  std::vector<Evaluation> replaced_evaluations;
  nlohmann::json algorithm_state;  ///< Algorithm::save_state()
  nlohmann::json runner_state;     ///< SearchRunner bookkeeping (bounds, counters)
  std::size_t evaluations = 0;     ///< total so far
  std::size_t front_size = 0;
  double hypervolume = 0.0;  ///< normalised (see pareto.h)
  double elapsed_s = 0.0;    ///< wall time of the run so far
};

/// What a resumed run restarts from: every stored evaluation and the last generation's states.
struct Checkpoint {
  std::vector<Evaluation> evaluations;  ///< objectives/constraint_values filled; fitness may not be
  nlohmann::json algorithm_state;
  nlohmann::json runner_state;
  int generation = 0;
};

class CheckpointSink {
 public:
  virtual ~CheckpointSink() = default;
  /// The last saved generation, or nullopt for a fresh run.
  virtual std::optional<Checkpoint> load_checkpoint() = 0;
  /// Saves one generation atomically (all or nothing). Throws hwnas::Error on failure.
  virtual void save_generation(const GenerationRecord& record) = 0;
};

}  // namespace hwnas
