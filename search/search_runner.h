// SearchRunner: the search loop (budget, parallel evaluation, cache, checkpoints, progress).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "search/algorithm.h"
#include "search/checkpoint.h"
#include "search/pareto.h"
#include "search/problem.h"

namespace hwnas {

struct RunnerOptions {
  std::size_t max_evaluations = 1000;  ///< evaluation budget (unique archs); 0 = no limit
  double max_seconds = 0.0;            ///< wall-time budget, checked between generations; 0 = none
  int threads = 0;                     ///< TBB threads for evaluation; 0 = all cores
  /// Stop after this many consecutive generations that brought no new arch (space exhausted).
  int max_stalled_generations = 20;
  /// Hypervolume normalisation (minimisation space). Empty: the runner evaluates the space's
  /// smallest() and largest() archs first (generation 0, counted in the budget) and takes, per
  /// objective, the better of the two as `lo` and the worse as `hi` (both kept in run.db so a
  /// resumed run uses the same).
  Normalisation bounds;
  /// Whether the smallest()/largest() pair evaluated for `bounds` joins the archive (and so the
  /// budget and the front). False for algorithms whose archs must all lie in a region the pair
  /// may fall outside (flops-window-evolution's FLOPs window).
  bool archive_bounds = true;
  /// True for an arch whose objectives are provisional (a surrogate's estimate, e.g.
  /// ScreenedAccuracy::estimated). When set, the run ends by confirming its front: provisional
  /// front members are evaluated again (the objectives must then return real values) and
  /// replace their archive entries, and the front is recomputed, until no member is
  /// provisional. Confirmations are not counted in the evaluation budget.
  std::function<bool(const Arch&)> provisional;
  /// Re-scores the front's candidates with a more precise source once the search (and the
  /// confirmation above) ends, e.g. accuracy on the whole validation split instead of the
  /// search's subset: called once with the archive entries of the first `rescore_ranks`
  /// non-dominated ranks (constrained domination), it returns their replacements in order (same
  /// archs). The final front is the Pareto front among the re-scored archs only, so an arch
  /// scored on the smaller subset cannot displace them on a lucky estimate. Not counted in the
  /// budget; saved to the sink as replaced evaluations. Empty: no re-scoring.
  std::function<std::vector<Evaluation>(const std::vector<Evaluation>&)> rescore;
  int rescore_ranks = 2;
  /// Failed evaluations (Evaluation::failure) the run tolerates. Each is stored and the search
  /// goes on; the generation that brings the count past this is saved, then run() throws
  /// hwnas::Error quoting the last failure (a resumed run counts the stored ones again, so
  /// raise the limit or fix the evaluator before --resume). 0: the first failure stops the run.
  std::size_t max_failures = 10;
};

struct Progress {
  int generation = 0;
  std::size_t evaluations = 0;
  std::size_t front_size = 0;
  double hypervolume = 0.0;
  double elapsed_s = 0.0;
};

struct SearchResult {
  std::vector<Evaluation> archive;  ///< every evaluation, in evaluation order
  /// Indices into archive of the final front: the Pareto-optimal feasible archs (if none is
  /// feasible, those with the least violation), sorted by objective 0 then genes.
  std::vector<std::size_t> front;
  double hypervolume = 0.0;  ///< normalised hypervolume of the feasible front members
  Normalisation bounds;
  int generations = 0;
  bool resumed = false;
  std::string stop_reason;
  std::vector<double> hypervolume_history;  ///< per generation, this process's generations only
  /// Front members whose provisional objectives were replaced by real ones at the end.
  std::size_t confirmed = 0;
  /// Archs re-scored by RunnerOptions::rescore (0 without it); the front is drawn from them.
  std::size_t rescored = 0;
  /// Failed evaluations in the archive (never in the front).
  std::size_t failed = 0;
};

/// Runs `algorithm` on `problem` until the evaluation or time budget is spent, the algorithm
/// finishes, or the space is exhausted. Each generation: ask, evaluate the archs not in the cache
/// (in a TBB arena of `threads` threads; values do not depend on the count), tell, update the
/// front, save the generation to `sink` (if any) and report progress. With a sink holding a
/// checkpoint, the run resumes from it and ends as the uninterrupted run would (deterministic
/// objectives). A failed evaluation is archived, saved and ranks last (RunnerOptions::
/// max_failures bounds how many). Throws what evaluation throws (hwnas::Error), or when the
/// bounds pair fails, failures pass max_failures, or no evaluation succeeded; generations saved
/// before stay resumable.
class SearchRunner {
 public:
  SearchRunner(Problem& problem, Algorithm& algorithm, RunnerOptions options,
               CheckpointSink* sink = nullptr);
  void on_progress(std::function<void(const Progress&)> callback) {
    progress_ = std::move(callback);
  }
  SearchResult run();

 private:
  void add(Evaluation e);
  /// Throws once the archive holds more failed evaluations than options_.max_failures.
  void check_failures() const;
  /// Puts archive_[idx] into front_ if nothing in front_ dominates it, dropping what it dominates.
  void update_front(std::size_t idx);
  double front_hypervolume() const;
  /// RunnerOptions::rescore: replaces the first ranks' entries and rebuilds front_ from them;
  /// returns how many were re-scored. `elapsed` reads the run's wall time for the save.
  std::size_t rescore_front(int generation, const std::function<double()>& elapsed);
  void save(int generation, const std::vector<Evaluation>& fresh, double elapsed,
            std::vector<Evaluation> replaced = {});

  Problem& problem_;
  Algorithm& algorithm_;
  RunnerOptions options_;
  CheckpointSink* sink_;
  std::function<void(const Progress&)> progress_;
  std::vector<Evaluation> archive_;
  std::unordered_map<Arch, std::size_t, ArchHash> cache_;
  std::vector<std::size_t> front_;  // incremental: non-dominated under constrained domination
  int stalled_ = 0;
  double elapsed_before_ = 0.0;
};

}  // namespace hwnas
