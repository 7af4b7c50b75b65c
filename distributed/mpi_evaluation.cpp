#include "distributed/mpi_evaluation.h"

#include <mpi.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <string>

#include "core/error.h"
#include "distributed/mpi_wait.h"

namespace hwnas::mpi {
namespace {

enum Tag : int { kTask = 1, kResult = 2, kError = 3, kStop = 4, kReport = 5 };

// answer[1] of a kResult message; the two others are followed by a kError text.
constexpr double kThrew = 0.0, kAnswered = 1.0, kFailed = 2.0;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

EvaluationPool::EvaluationPool(int ranks, std::size_t metrics, double timeout_s)
    : ranks_(ranks),
      metrics_(metrics),
      timeout_s_(timeout_s),
      shares_(static_cast<std::size_t>(ranks)),
      retired_(static_cast<std::size_t>(ranks), false) {
  if (ranks < 2) throw Error("EvaluationPool needs at least 2 ranks (rank 0 only dispatches)");
}

EvaluationPool::~EvaluationPool() {
  try {
    stop();
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw; stop() is best
                   // effort here
  }
}

MetricValues EvaluationPool::evaluate(
    const std::vector<Arch>& archs, int generation,
    const std::function<void(std::size_t, const std::vector<double>&)>& on_result) {
  const std::size_t n = archs.size();
  MetricValues out;
  out.values.assign(metrics_, std::vector<double>(n));
  if (n == 0) return out;
  auto fail = [&](std::size_t i, const std::string& why) {
    if (out.failures.empty()) out.failures.resize(n);
    out.failures[i] = why;
    for (auto& v : out.values) v[i] = std::numeric_limits<double>::quiet_NaN();
  };
  std::vector<Clock::time_point> sent_at(n);
  std::vector<Clock::time_point> rank_start(static_cast<std::size_t>(ranks_));
  std::vector<int> in_flight(static_cast<std::size_t>(ranks_), 0);
  std::vector<std::size_t> holds(static_cast<std::size_t>(ranks_), n);  // arch index per rank
  std::size_t next = 0, done = 0;
  auto send = [&](int rank) {
    std::vector<std::int64_t> msg{static_cast<std::int64_t>(next), generation};
    for (int g : archs[next].genes) msg.push_back(g);
    sent_at[next] = Clock::now();
    if (in_flight[static_cast<std::size_t>(rank)]++ == 0)
      rank_start[static_cast<std::size_t>(rank)] = sent_at[next];
    holds[static_cast<std::size_t>(rank)] = next;
    MPI_Send(msg.data(), static_cast<int>(msg.size()), MPI_INT64_T, rank, kTask, MPI_COMM_WORLD);
    ++traffic_.messages;
    traffic_.bytes += msg.size() * sizeof(std::int64_t);
    ++next;
  };
  for (int rank = 1; rank < ranks_ && next < n; ++rank)
    if (!retired_[static_cast<std::size_t>(rank)]) send(rank);
  // MPI cannot cancel a busy rank: its evaluation fails and the rank gets no more work.
  auto retire = [&](int rank, const std::string& what) {
    const auto r = static_cast<std::size_t>(rank);
    const std::size_t index = holds[r];
    retired_[r] = true;
    in_flight[r] = 0;
    shares_[r].busy_s += seconds_since(rank_start[r]);
    fail(index, "rank " + std::to_string(rank) + " " + what +
                    "; the rank is retired for the rest of the run");
    ++done;
    if (next < n && std::find(retired_.begin() + 1, retired_.end(), false) == retired_.end()) {
      std::string genes;
      for (int g : archs[index].genes) genes += (genes.empty() ? "" : ",") + std::to_string(g);
      throw EvaluationTimeout("every worker rank is retired: the last, rank " +
                              std::to_string(rank) + ", " + what + " for the arch with genes [" +
                              genes + "] of generation " + std::to_string(generation) +
                              "; the evaluations finished before are in run.db: fix or remove "
                              "what hangs, then --resume (or raise --eval-timeout)");
    }
  };
  std::vector<double> answer(2 + metrics_);
  std::string first_error;
  while (done < n) {
    // The oldest outstanding evaluation sets the deadline.
    auto deadline = Clock::time_point::max();
    int late_rank = 0;
    if (timeout_s_ > 0)
      for (int r = 1; r < ranks_; ++r)
        if (in_flight[static_cast<std::size_t>(r)] > 0) {
          const auto d = sent_at[holds[static_cast<std::size_t>(r)]] +
                         std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(timeout_s_));
          if (d < deadline) {
            deadline = d;
            late_rank = r;
          }
        }
    const std::optional<MPI_Status> arrived = wait_for_until(MPI_ANY_SOURCE, kResult, deadline);
    if (!arrived) {
      retire(late_rank, "did not answer within " + std::to_string(timeout_s_) +
                            " s (--eval-timeout plus its grace)");
      continue;
    }
    const MPI_Status status = *arrived;
    const int rank = status.MPI_SOURCE;
    int count = 0;
    MPI_Get_count(&status, MPI_DOUBLE, &count);
    if (static_cast<std::size_t>(count) != answer.size())
      throw Error("rank " + std::to_string(rank) + " answered with " + std::to_string(count - 2) +
                  " metric values, rank 0 has " + std::to_string(metrics_) +
                  ": every rank must run the same hwnas build and command line");
    MPI_Recv(answer.data(), count, MPI_DOUBLE, rank, kResult, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    std::string text;
    if (answer[1] != kAnswered) {
      const std::optional<MPI_Status> err = wait_for_until(rank, kError, deadline_from_now());
      if (!err) {
        if (!retired_[static_cast<std::size_t>(rank)])
          retire(rank, "stopped answering while it reported a failure");
        continue;
      }
      int len = 0;
      MPI_Get_count(&*err, MPI_CHAR, &len);
      text.assign(static_cast<std::size_t>(len), '\0');
      MPI_Recv(text.data(), len, MPI_CHAR, rank, kError, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    // A retired rank that wakes up answers an evaluation already counted as failed.
    if (retired_[static_cast<std::size_t>(rank)]) continue;
    const auto index = static_cast<std::size_t>(answer[0]);
    if (answer[1] == kFailed) {
      // Not logged: a resumed run asks a failed arch of an unsaved generation again.
      fail(index, "rank " + std::to_string(rank) + ": " + text);
    } else if (answer[1] != kAnswered) {
      if (first_error.empty())
        first_error = "rank " + std::to_string(rank) + ", arch " + std::to_string(index) +
                      " of generation " + std::to_string(generation) + ": " + text;
    } else {
      for (std::size_t k = 0; k < metrics_; ++k) out.values[k][index] = answer[2 + k];
      if (on_result) on_result(index, std::vector<double>(answer.begin() + 2, answer.end()));
    }
    ++done;
    ++traffic_.messages;
    traffic_.bytes += answer.size() * sizeof(double);
    traffic_.round_trip_us += 1e6 * seconds_since(sent_at[index]);
    RankShare& share = shares_[static_cast<std::size_t>(rank)];
    ++share.evaluations;
    if (--in_flight[static_cast<std::size_t>(rank)] == 0)
      share.busy_s += seconds_since(rank_start[static_cast<std::size_t>(rank)]);
    if (next < n) send(rank);
  }
  if (!first_error.empty()) throw Error(first_error);
  return out;
}

Clock::time_point EvaluationPool::deadline_from_now() const {
  if (timeout_s_ <= 0) return Clock::time_point::max();
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s_));
}

std::vector<int> EvaluationPool::retired_ranks() const {
  std::vector<int> out;
  for (int r = 1; r < ranks_; ++r)
    if (retired_[static_cast<std::size_t>(r)]) out.push_back(r);
  return out;
}

void EvaluationPool::stop(bool completed) {
  if (stopped_) return;
  stopped_ = true;
  told_completed_ = completed;
  int flag = completed ? 1 : 0;
  for (int rank = 1; rank < ranks_; ++rank)
    if (!retired_[static_cast<std::size_t>(rank)])
      MPI_Send(&flag, 1, MPI_INT, rank, kStop, MPI_COMM_WORLD);
  reports_.assign(static_cast<std::size_t>(ranks_), {});
  for (int rank = 1; rank < ranks_; ++rank) {
    if (retired_[static_cast<std::size_t>(rank)]) continue;
    // A rank frozen after its last evaluation is retired here, so the outputs still get written.
    const std::optional<MPI_Status> status = wait_for_until(rank, kReport, deadline_from_now());
    if (!status) {
      retired_[static_cast<std::size_t>(rank)] = true;
      continue;
    }
    int count = 0;
    MPI_Get_count(&*status, MPI_DOUBLE, &count);
    auto& r = reports_[static_cast<std::size_t>(rank)];
    r.resize(static_cast<std::size_t>(count));
    MPI_Recv(r.data(), count, MPI_DOUBLE, rank, kReport, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  }
}

bool serve_evaluations(Problem& problem, int threads,
                       const std::function<std::vector<double>()>& report) {
  tbb::task_arena arena(threads > 0 ? threads : tbb::task_arena::automatic);
  const std::size_t metrics = problem.metric_count();
  while (true) {
    const MPI_Status status = wait_for(0, MPI_ANY_TAG);
    if (status.MPI_TAG == kStop) {
      int completed = 0;
      MPI_Recv(&completed, 1, MPI_INT, 0, kStop, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      const std::vector<double> r = report ? report() : std::vector<double>{};
      MPI_Send(r.data(), static_cast<int>(r.size()), MPI_DOUBLE, 0, kReport, MPI_COMM_WORLD);
      return completed != 0;
    }
    int count = 0;
    MPI_Get_count(&status, MPI_INT64_T, &count);
    std::vector<std::int64_t> task(static_cast<std::size_t>(count));
    MPI_Recv(task.data(), count, MPI_INT64_T, 0, kTask, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    Arch arch{problem.space().name(), {}};
    for (std::size_t i = 2; i < task.size(); ++i) arch.genes.push_back(static_cast<int>(task[i]));
    std::vector<double> answer(2 + metrics);
    answer[0] = static_cast<double>(task[0]);
    std::string error;
    try {
      MetricValues v;
      arena.execute([&] { v = problem.evaluate_metrics({arch}); });
      for (std::size_t k = 0; k < metrics; ++k) answer[2 + k] = v.values[k][0];
      const bool failed = !v.failures.empty() && !v.failures[0].empty();
      answer[1] = failed ? kFailed : kAnswered;
      if (failed) error = v.failures[0];
    } catch (const std::exception& e) {
      answer[1] = kThrew;
      error = e.what();
      if (error.empty()) error = "an evaluation failed without a message";  // rank 0 waits for it
    }
    MPI_Send(answer.data(), static_cast<int>(answer.size()), MPI_DOUBLE, 0, kResult,
             MPI_COMM_WORLD);
    if (!error.empty())
      MPI_Send(error.data(), static_cast<int>(error.size()), MPI_CHAR, 0, kError, MPI_COMM_WORLD);
  }
}

}  // namespace hwnas::mpi
