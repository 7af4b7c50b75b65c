// Search evaluations spread over MPI ranks (Dakota's master-worker scheduling): rank 0 keeps the
// algorithm and run.db and hands out one architecture at a time to ranks 1..N-1, sending the
// next to whichever rank answers first, so a fast rank takes more work. Each rank computes every
// metric of its architecture with its own copy of the problem; rank 0 puts the values back in
// batch order, so the search sees exactly what one process computes, whatever the rank count or
// the order answers arrive in.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/error.h"
#include "search/problem.h"

namespace hwnas::mpi {

/// What one rank did, for progress lines and the summary.
struct RankShare {
  std::size_t evaluations = 0;
  double busy_s = 0;  ///< wall time between handing it work and its last answer
};

/// Message volume of the scheduling, summed over every evaluation.
struct TrafficStats {
  std::size_t messages = 0;
  std::size_t bytes = 0;
  double round_trip_us = 0;  ///< summed send-to-answer time, evaluation included
};

/// Every worker rank has been retired (none answered within the pool's timeout) while work
/// remains. A busy rank cannot be stopped (MPI has no cancel), so the job must end (abort_job).
class EvaluationTimeout : public Error {
 public:
  using Error::Error;
};

/// Rank 0's end. Needs a running Session of at least 2 ranks whose ranks 1..N-1 are in
/// serve_evaluations with a problem of the same metrics.
class EvaluationPool {
 public:
  /// `metrics`: Problem::metric_count() of rank 0's problem (the workers' must be equal).
  /// `timeout_s` > 0: the longest wait for one answer; a rank past it is retired (its arch
  /// fails, it gets no more work, stop() does not wait for it).
  EvaluationPool(int ranks, std::size_t metrics, double timeout_s = 0);
  /// Sends stop to the workers if stop() was not called.
  ~EvaluationPool();
  EvaluationPool(const EvaluationPool&) = delete;
  EvaluationPool& operator=(const EvaluationPool&) = delete;

  /// Problem::MetricEvaluator: values[k][i] of metric k for archs[i], computed on the workers.
  /// An arch whose evaluation failed on its rank (EvaluationFailure) or whose rank was retired
  /// for the timeout comes back in MetricValues::failures, naming the rank. Throws
  /// hwnas::Error naming the rank and the arch when a worker's evaluation threw anything else
  /// (after every outstanding answer has come back, so the pool stays usable), and
  /// EvaluationTimeout when the last rank is retired with work left.
  /// `on_result(i, values)`, when set, is called with archs[i]'s metric values as each answer
  /// arrives (the evaluation log commits it there); not for failures.
  MetricValues evaluate(
      const std::vector<Arch>& archs, int generation,
      const std::function<void(std::size_t, const std::vector<double>&)>& on_result = {});

  /// Tells every worker but the retired ones to leave serve_evaluations and collects what each
  /// one's `report` returned (worker_reports()); a rank that does not report within the timeout
  /// is retired too. `completed`: the run succeeded, so the workers go on to meet rank 0 in
  /// all_ranks_reach_within (serve_evaluations' result). Idempotent: the first call decides.
  void stop(bool completed = false);
  /// Whether stop() told the workers the run completed (they then wait in
  /// all_ranks_reach_within, which rank 0 must join on every path).
  bool told_completed() const { return told_completed_; }

  /// Per rank (index = rank; rank 0's is empty), after stop().
  const std::vector<std::vector<double>>& worker_reports() const { return reports_; }

  std::size_t metric_count() const { return metrics_; }
  /// Per rank (index = rank; rank 0 evaluates nothing).
  const std::vector<RankShare>& shares() const { return shares_; }
  const TrafficStats& traffic() const { return traffic_; }
  /// Ranks retired for not answering within the timeout. While any is, the job cannot end
  /// with MPI_Finalize (Open MPI waits for every rank): end it with abort_job once the outputs
  /// are written.
  std::vector<int> retired_ranks() const;

 private:
  int ranks_;
  std::size_t metrics_;
  double timeout_s_ = 0;
  bool stopped_ = false;
  bool told_completed_ = false;
  std::vector<RankShare> shares_;
  TrafficStats traffic_;
  std::vector<std::vector<double>> reports_;
  std::vector<bool> retired_;  // per rank
  /// Now + the timeout (never without one).
  std::chrono::steady_clock::time_point deadline_from_now() const;
};

/// A worker rank's loop: evaluates the architectures rank 0 sends with `problem`
/// (Problem::evaluate_metrics in a TBB arena of `threads` threads) and answers, until rank 0
/// says stop, then sends rank 0 what `report` returns (e.g. its supernet evaluations and
/// seconds). An evaluation that throws is answered with its message; the loop goes on.
/// Returns stop()'s `completed`.
bool serve_evaluations(Problem& problem, int threads,
                       const std::function<std::vector<double>()>& report);

}  // namespace hwnas::mpi
