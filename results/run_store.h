// RunStore: a search run's SQLite database (DIR/run.db): every evaluation, per-generation
// progress and the checkpoint a resumed run restarts from.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "search/checkpoint.h"
#include "search/problem.h"

struct sqlite3;

namespace hwnas {

/// One row of the `generations` table.
struct GenerationSummary {
  int generation = 0;
  std::size_t evaluations = 0;
  std::size_t front_size = 0;
  double hypervolume = 0.0;
  double elapsed_s = 0.0;
};

/// One stored evaluation as `hwnas export` reads it back (objective and constraint values keyed
/// by metric name, in natural units).
struct StoredEvaluation {
  std::int64_t id = 0;
  int generation = 0;
  nlohmann::json arch;
  nlohmann::json objectives;
  nlohmann::json constraints;
  double violation = 0;
  bool feasible = true;
  /// {objective: held-out images} for the objectives whose values are proportions (accuracy);
  /// empty in a version-1 database.
  nlohmann::json samples = nlohmann::json::object();
  /// Evaluation::failure: why it failed (its objectives are then null); empty when it did not.
  std::string failure;
};

/// Schema (version 3), WAL mode, one transaction per generation:
///   meta(key, value)           schema_version, config (the run's settings as JSON, written by
///                              the CLI), algorithm_state, runner_state, last_generation
///   evaluations(id, generation, genes, arch, objectives, constraints, violation, feasible,
///               samples, intervals, failure)
///                              genes: JSON array; arch: SearchSpace::to_json; objectives and
///                              constraints: JSON objects keyed by metric name (natural units);
///                              samples: {objective: held-out images} of the accuracies
///                              (Objective::samples), '{}' when none; intervals: {objective:
///                              [lo, hi]}, their 95 % Wilson intervals (version 2); failure:
///                              why the evaluation failed, '' when it did not, its objectives
///                              and constraints then null (version 3). An older file is read
///                              without the newer columns and upgraded when opened to write.
///   generations(generation, evaluations, front_size, hypervolume, elapsed_s)
/// It implements search's CheckpointSink (search/ cannot include results/).
class RunStore final : public CheckpointSink {
 public:
  /// Opens or creates the database at `path` (create = false: opens an existing run read-only and
  /// throws hwnas::Error if the file is missing or is not an hwnas run database). Throws
  /// hwnas::Error naming the file.
  explicit RunStore(const std::string& path, bool create = true);
  ~RunStore() override;
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  /// The problem whose evaluations are stored (names and space); required before
  /// load_checkpoint/save_generation.
  void bind(const Problem& problem) { problem_ = &problem; }

  /// The run's settings (meta 'config'), or nullopt in a new database.
  std::optional<nlohmann::json> config() const;
  /// Stores the run's settings (in its own transaction).
  void set_config(const nlohmann::json& config);

  /// The last saved generation. Throws hwnas::Error naming the file if a stored value is not
  /// what hwnas wrote (not JSON, genes that are not integers, a missing or non-numeric
  /// objective or constraint value, a last_generation that is not an integer).
  std::optional<Checkpoint> load_checkpoint() override;
  void save_generation(const GenerationRecord& record) override;

  std::vector<GenerationSummary> generations() const;
  std::size_t evaluation_count() const;
  /// Every stored evaluation in insertion order. Throws hwnas::Error naming the file if an
  /// evaluation's arch, objectives or constraints are not JSON (a damaged file).
  std::vector<StoredEvaluation> evaluations() const;

 private:
  void exec(const std::string& sql) const;
  std::optional<std::string> meta(const std::string& key) const;

  std::string path_;
  sqlite3* db_ = nullptr;
  const Problem* problem_ = nullptr;
  int version_ = 3;  // below 3 only for an older file opened read-only
};

}  // namespace hwnas
