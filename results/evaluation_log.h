// The evaluation log of a run (Dakota's restart log): every evaluation's metric values
// committed to run.db the moment they arrive, before the generation they belong to is saved. A
// run stopped mid-generation (a rank killed, SIGKILL, a lost node) resumes from its last saved
// generation, asks the same architectures again (the algorithm's state is restored), and the
// log answers those that had finished, so no finished evaluation is lost or run twice.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "spaces/arch.h"

struct sqlite3;

namespace hwnas {

/// Table `evaluation_log(genes TEXT PRIMARY KEY, metrics TEXT)` in run.db (genes and metric
/// values as JSON arrays; doubles round-trip exactly). Opened on first use, so it may be
/// constructed before run.db exists. Not thread-safe: one thread (rank 0's evaluation thread)
/// uses it.
class EvaluationLog {
 public:
  /// `run_db`: the run's run.db (created by run_search).
  explicit EvaluationLog(std::string run_db);
  ~EvaluationLog();
  EvaluationLog(const EvaluationLog&) = delete;
  EvaluationLog& operator=(const EvaluationLog&) = delete;

  /// The logged metric values of `arch` (in Problem's metric order), if any. Throws
  /// hwnas::Error naming run.db when it cannot be opened or holds a damaged row.
  std::optional<std::vector<double>> find(const Arch& arch);
  /// Logs `metrics` for `arch` in its own transaction (synchronous=NORMAL in WAL mode: it
  /// survives the process being killed). Throws hwnas::Error naming run.db on failure (e.g. a
  /// full disk).
  void append(const Arch& arch, const std::vector<double>& metrics);
  /// Rows logged so far.
  std::size_t size();

 private:
  void open();
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace hwnas
