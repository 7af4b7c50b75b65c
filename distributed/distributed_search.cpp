#include "distributed/distributed_search.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>

#include "core/error.h"
#include "results/evaluation_log.h"
#include "results/search_problem.h"

namespace hwnas::mpi {
namespace {

// Rank 0 tells the workers whether to build the problem (1) or leave (0).
enum Go : int { kLeave = 0, kBuild = 1 };

void check_distributable(const RunConfig& config) {
  if (config.prescreen < 1.0)
    throw Error("--prescreen " + std::to_string(config.prescreen) +
                " cannot run under mpirun: its surrogate learns from every evaluation in order; "
                "run it in one process, or use --prescreen 1");
  if (config.fill)
    throw Error(
        "--fill cannot run under mpirun: every rank would measure and write rows of one table; "
        "profile the table first (mpirun -n N hwnas profile ...), then search without --fill");
}

}  // namespace

std::optional<DistributedSearchReport> run_search_distributed(
    Session& session, RunConfig config, const std::string& out_dir, SearchRunOptions options,
    const std::function<void(const std::vector<RankShare>&)>& on_shares) {
  if (session.rank() != 0) {
    if (broadcast_from_root(kLeave) != kBuild) return std::nullopt;
    std::unique_ptr<SearchProblem> built;
    try {
      config.validate();
      built =
          std::make_unique<SearchProblem>(config, options.agent_token, /*profile=*/false, nullptr);
    } catch (const std::exception& e) {
      std::cerr << "error: rank " << session.rank()
                << " cannot build the search problem: " << e.what() << "\n";
      abort_job(1);
    }
    // Reported when rank 0 stops the workers: this rank's share of the supernet's work.
    const auto supernet = built->accuracy.supernet;
    const bool completed =
        serve_evaluations(*built->problem, options.threads, [supernet]() -> std::vector<double> {
          if (!supernet) return {};
          return {static_cast<double>(supernet->evaluations()), supernet->seconds()};
        });
    // Rank 0 writes the outputs, then checks that every rank reached the end (cmd_search).
    if (completed) all_ranks_reach_within(0);
    return std::nullopt;
  }

  DistributedSearchReport out;
  EvaluationLog log(out_dir + "/run.db");
  std::unique_ptr<EvaluationPool> pool;
  bool released = false;
  const double timeout_s = config.eval_timeout_s > 0 ? config.eval_timeout_s + kRankGraceS : 0.0;
  try {
    check_distributable(config);
    options.ranks = session.size();
    if (on_shares) {
      auto progress = options.on_progress;
      options.on_progress = [progress, &pool, &on_shares](const Progress& p) {
        if (progress) progress(p);
        if (pool) on_shares(pool->shares());
      };
    }
    options.on_problem = [&](Problem& problem) {
      released = true;
      broadcast_from_root(kBuild);
      if (session.size() < 2) return;
      pool = std::make_unique<EvaluationPool>(session.size(), problem.metric_count(), timeout_s);
      problem.set_metric_evaluator(
          [&pool, &log, &out](const std::vector<Arch>& archs, int generation) {
            // Finished evaluations of a generation that was not saved (a killed job) come from
            // the log; the rest go to the workers and into the log as they arrive.
            MetricValues out_values;
            auto& values = out_values.values;
            values.assign(pool->metric_count(), std::vector<double>(archs.size()));
            std::vector<Arch> todo;
            std::vector<std::size_t> where;
            for (std::size_t i = 0; i < archs.size(); ++i) {
              if (const auto logged = log.find(archs[i])) {
                for (std::size_t k = 0; k < values.size() && k < logged->size(); ++k)
                  values[k][i] = (*logged)[k];
                ++out.replayed;
              } else {
                todo.push_back(archs[i]);
                where.push_back(i);
              }
            }
            const auto got = pool->evaluate(
                todo, generation,
                [&](std::size_t j, const std::vector<double>& v) { log.append(todo[j], v); });
            for (std::size_t j = 0; j < todo.size(); ++j) {
              for (std::size_t k = 0; k < values.size(); ++k)
                values[k][where[j]] = got.values[k][j];
              if (!got.failures.empty() && !got.failures[j].empty()) {
                if (out_values.failures.empty()) out_values.failures.resize(archs.size());
                out_values.failures[where[j]] = got.failures[j];
              }
            }
            return out_values;
          });
    };
    // The workers' supernet evaluations replace rank 0's (it evaluated none), so front.json
    // counts them as one process would.
    options.on_finish = [&pool](nlohmann::json& summary) {
      if (!pool) return;
      pool->stop(/*completed=*/true);
      if (!summary.contains("supernet_evaluation")) return;
      double evaluations = 0, seconds = 0;
      for (const auto& r : pool->worker_reports())
        if (r.size() == 2) {
          evaluations += r[0];
          seconds += r[1];
        }
      summary["supernet_evaluation"] = {{"evaluations", static_cast<std::size_t>(evaluations)},
                                        {"seconds", seconds}};
    };
    out.report = run_search(std::move(config), out_dir, options);
  } catch (const EvaluationTimeout& e) {
    // The late rank cannot be told to stop: end the job. The log holds what finished.
    std::cerr << "error: " << e.what() << "\n";
    abort_job(2);
  } catch (...) {
    if (!released) broadcast_from_root(kLeave);
    if (pool) pool->stop();
    if (pool && pool->told_completed()) all_ranks_reach_within(timeout_s);  // they wait there
    throw;
  }
  if (pool) {
    pool->stop();
    out.shares = pool->shares();
    out.traffic = pool->traffic();
    out.retired = pool->retired_ranks();
    // A retired rank never arrives; the others wait there until the job ends.
    if (out.retired.empty() && pool->told_completed())
      out.all_ranks_finished = all_ranks_reach_within(timeout_s);
  } else {
    out.shares.assign(static_cast<std::size_t>(session.size()), RankShare{});
  }
  return out;
}

std::string rank_summary(const DistributedSearchReport& r) {
  std::string s;
  char line[200];
  std::size_t evaluations = 0;
  for (std::size_t rank = 1; rank < r.shares.size(); ++rank) {
    const bool retired =
        std::find(r.retired.begin(), r.retired.end(), static_cast<int>(rank)) != r.retired.end();
    std::snprintf(line, sizeof line, "  rank %zu: %zu evaluations, busy %.2f s%s\n", rank,
                  r.shares[rank].evaluations, r.shares[rank].busy_s,
                  retired ? " (retired: no answer within --eval-timeout)" : "");
    s += line;
    evaluations += r.shares[rank].evaluations;
  }
  if (r.replayed > 0) {
    std::snprintf(line, sizeof line,
                  "  %zu evaluations answered from the evaluation log (finished before the "
                  "interruption)\n",
                  r.replayed);
    s += line;
  }
  if (evaluations > 0) {
    std::snprintf(line, sizeof line,
                  "  traffic: %zu messages, %zu bytes (%.0f per evaluation), round trip %.0f us "
                  "per evaluation (evaluation included)\n",
                  r.traffic.messages, r.traffic.bytes,
                  static_cast<double>(r.traffic.bytes) / static_cast<double>(evaluations),
                  r.traffic.round_trip_us / static_cast<double>(evaluations));
    s += line;
  }
  return (r.shares.size() < 2 ? std::string("1 rank: evaluations in rank 0\n")
                              : std::to_string(r.shares.size()) + " ranks:\n") +
         s;
}

}  // namespace hwnas::mpi
