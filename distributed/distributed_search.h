// `hwnas search` as one rank of an MPI job: rank 0 runs the search and owns run.db, the other
// ranks evaluate (mpi_evaluation.h). The front is the one process's front, bit for bit.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "distributed/mpi_evaluation.h"
#include "distributed/mpi_session.h"
#include "results/search_run.h"

namespace hwnas::mpi {

/// Seconds a worker rank gets beyond --eval-timeout before it is retired, so that a rank whose
/// external: command hangs reports that command's own timeout (a failed evaluation) and stays.
inline constexpr double kRankGraceS = 5.0;

struct DistributedSearchReport {
  SearchRunReport report;
  std::vector<RankShare> shares;  ///< per rank; rank 0 dispatches and evaluates nothing
  TrafficStats traffic;
  /// Evaluations answered by run.db's evaluation log (results/evaluation_log.h): finished in a
  /// job that was stopped before it saved their generation.
  std::size_t replayed = 0;
  /// Ranks retired for passing --eval-timeout (EvaluationPool::retired_ranks). When any is, the
  /// caller ends the job with abort_job(0) after printing the summary: MPI_Finalize would wait
  /// for the hung rank forever.
  std::vector<int> retired;
  /// False when a worker rank did not reach the end of the job within --eval-timeout + grace
  /// (frozen after its last evaluation): the caller ends the job as for a retired rank.
  bool all_ranks_finished = true;
};

/// Runs `config` on every rank of `session` (all ranks call it with the same arguments).
/// Rank 0: run_search with SearchRunOptions::ranks set and, from 2 ranks on, its evaluations
/// spread over ranks 1..N-1; returns the report. Other ranks: build the same problem once rank
/// 0 has built its own (so a host table rank 0 profiles is complete before they read it), serve
/// evaluations until rank 0 is done, and return nullopt; they also return nullopt, without a
/// message, when rank 0 failed before the search began (rank 0 reports it). Throws
/// hwnas::Error on rank 0 for a configuration whose evaluations share state and so cannot be
/// spread (prescreen < 1, fill) and for what run_search throws. A worker rank that does not
/// answer within --eval-timeout + kRankGraceS fails its evaluation and is retired; the run goes
/// on with the others (when none is left, the job is aborted, run.db kept for --resume). A worker
/// that cannot build the problem prints the reason with its rank and aborts the job. `on_shares`,
/// when set, is called on rank 0 after each generation's on_progress with the shares so far.
std::optional<DistributedSearchReport> run_search_distributed(
    Session& session, RunConfig config, const std::string& out_dir, SearchRunOptions options,
    const std::function<void(const std::vector<RankShare>&)>& on_shares = {});

/// One line per working rank for the summary: "rank 1: 20 evaluations, busy 3.1 s" ("retired"
/// for a rank past --eval-timeout), then the traffic: messages, bytes and mean round trip per
/// evaluation.
std::string rank_summary(const DistributedSearchReport& report);

}  // namespace hwnas::mpi
