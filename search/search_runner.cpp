#include "search/search_runner.h"

#include <algorithm>
#include <chrono>
#include <unordered_set>

#include <tbb/info.h>
#include <tbb/task_arena.h>

#include "core/error.h"

namespace hwnas {

SearchRunner::SearchRunner(Problem& problem, Algorithm& algorithm, RunnerOptions options,
                           CheckpointSink* sink)
    : problem_(problem), algorithm_(algorithm), options_(std::move(options)), sink_(sink) {
  if (options_.max_evaluations == 0 && options_.max_seconds <= 0 && algorithm_.name() != "slimming")
    throw Error(
        "search: give an evaluation budget (--budget N) or a time budget (--time-budget S)");
  if (options_.threads < 0) throw Error("search: --threads must be >= 0 (0 = all cores)");
  const std::size_t m = problem_.objectives().size();
  if (!options_.bounds.lo.empty() &&
      (options_.bounds.lo.size() != m || options_.bounds.hi.size() != m))
    throw Error("search: hypervolume bounds need one value per objective");
}

void SearchRunner::add(Evaluation e) {
  const std::size_t idx = archive_.size();
  cache_.emplace(e.arch, idx);
  archive_.push_back(std::move(e));
  update_front(idx);
}

void SearchRunner::check_failures() const {
  std::size_t failed = 0;
  const Evaluation* last = nullptr;
  for (const auto& e : archive_)
    if (e.failed()) {
      ++failed;
      last = &e;
    }
  if (failed <= options_.max_failures) return;
  throw Error("search: " + std::to_string(failed) +
              " evaluations failed, more than --max-failures " +
              std::to_string(options_.max_failures) + " allows; the last: " + last->failure +
              ". Every evaluation so far is in run.db: fix the evaluator (or raise "
              "--max-failures), then --resume");
}

void SearchRunner::update_front(std::size_t idx) {
  const Evaluation& e = archive_[idx];
  if (e.failed()) return;  // nothing to offer: it must not even stand in for an empty front
  for (std::size_t f : front_)
    if (constrained_dominates(archive_[f].fitness, archive_[f].violation, e.fitness, e.violation))
      return;
  std::erase_if(front_, [&](std::size_t f) {
    return constrained_dominates(e.fitness, e.violation, archive_[f].fitness,
                                 archive_[f].violation);
  });
  front_.push_back(idx);
}

double SearchRunner::front_hypervolume() const {
  if (options_.bounds.lo.empty()) return 0.0;
  const std::size_t m = problem_.objectives().size();
  if (m < 2 || m > 3) return 0.0;  // exact hypervolume is implemented for 2 and 3 objectives
  std::vector<Point> pts;
  for (std::size_t f : front_)
    if (archive_[f].feasible()) pts.push_back(archive_[f].fitness);
  return hypervolume_normalised(pts, options_.bounds);
}

void SearchRunner::save(int generation, const std::vector<Evaluation>& fresh, double elapsed,
                        std::vector<Evaluation> replaced) {
  if (!sink_) return;
  GenerationRecord r;
  r.generation = generation;
  r.new_evaluations = fresh;
  r.replaced_evaluations = std::move(replaced);
  r.algorithm_state = algorithm_.save_state();
  r.runner_state = {{"bounds_lo", options_.bounds.lo},
                    {"bounds_hi", options_.bounds.hi},
                    {"stalled", stalled_},
                    {"elapsed_s", elapsed}};
  r.evaluations = archive_.size();
  r.front_size = front_.size();
  r.hypervolume = front_hypervolume();
  r.elapsed_s = elapsed;
  sink_->save_generation(r);
}

std::size_t SearchRunner::rescore_front(int generation, const std::function<double()>& elapsed) {
  std::vector<Point> points;
  std::vector<double> violations;
  for (const auto& e : archive_) {
    points.push_back(e.fitness);
    violations.push_back(e.violation);
  }
  const auto ranks = non_dominated_sort(points, violations);
  std::vector<std::size_t> todo;
  for (std::size_t r = 0; r < ranks.size() && r < std::size_t(std::max(1, options_.rescore_ranks));
       ++r)
    todo.insert(todo.end(), ranks[r].begin(), ranks[r].end());
  if (todo.empty()) return 0;
  std::vector<Evaluation> old;
  for (std::size_t i : todo) old.push_back(archive_[i]);
  std::vector<Evaluation> fresh = options_.rescore(old);
  if (fresh.size() != todo.size())
    throw Error("search: the final re-scoring returned " + std::to_string(fresh.size()) +
                " evaluations for " + std::to_string(todo.size()) + " archs");
  for (std::size_t k = 0; k < todo.size(); ++k) {
    if (!(fresh[k].arch == old[k].arch))
      throw Error("search: the final re-scoring returned another arch than it was given");
    fresh[k].generation = old[k].generation;
    archive_[todo[k]] = fresh[k];
  }
  front_.clear();
  std::sort(todo.begin(), todo.end());
  for (std::size_t i : todo) update_front(i);
  save(generation, {}, elapsed(), std::move(fresh));
  return todo.size();
}

SearchResult SearchRunner::run() {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  auto elapsed = [&] {
    return elapsed_before_ + std::chrono::duration<double>(Clock::now() - t0).count();
  };
  const int threads = options_.threads > 0 ? options_.threads : tbb::info::default_concurrency();
  tbb::task_arena arena(threads);
  auto evaluate = [&](const std::vector<Arch>& archs, int generation) {
    std::vector<Evaluation> out;
    arena.execute([&] { out = problem_.evaluate(archs, generation); });
    return out;
  };

  SearchResult result;
  int generation = 0;
  std::optional<Checkpoint> cp = sink_ ? sink_->load_checkpoint() : std::nullopt;
  if (cp) {
    for (auto& e : cp->evaluations)
      add(e.failed() ? problem_.make_failed_evaluation(std::move(e.arch), std::move(e.failure),
                                                       e.generation)
                     : problem_.make_evaluation(std::move(e.arch), std::move(e.objectives),
                                                std::move(e.constraint_values), e.generation));
    algorithm_.load_state(cp->algorithm_state);
    const auto& rs = cp->runner_state;
    options_.bounds.lo = rs.at("bounds_lo").get<Point>();
    options_.bounds.hi = rs.at("bounds_hi").get<Point>();
    stalled_ = rs.at("stalled").get<int>();
    elapsed_before_ = rs.at("elapsed_s").get<double>();
    generation = cp->generation;
    result.resumed = true;
  } else {
    std::vector<Evaluation> fresh;
    if (options_.bounds.lo.empty()) {
      const SearchSpace& space = problem_.space();
      std::vector<Arch> corners{space.smallest()};
      if (space.largest() != corners[0]) corners.push_back(space.largest());
      fresh = evaluate(corners, 0);
      for (const auto& e : fresh)
        if (e.failed())
          throw Error(
              "search: the hypervolume bounds come from the space's smallest and largest "
              "archs, and evaluating the " +
              std::string(e.arch == corners[0] ? "smallest" : "largest") + " failed: " + e.failure +
              ". Fix the evaluator and run again");
      const std::size_t m = problem_.objectives().size();
      options_.bounds.lo.assign(m, 0.0);
      options_.bounds.hi.assign(m, 0.0);
      for (std::size_t k = 0; k < m; ++k) {
        options_.bounds.lo[k] = fresh.front().fitness[k];
        options_.bounds.hi[k] = fresh.front().fitness[k];
        for (const auto& e : fresh) {
          options_.bounds.lo[k] = std::min(options_.bounds.lo[k], e.fitness[k]);
          options_.bounds.hi[k] = std::max(options_.bounds.hi[k], e.fitness[k]);
        }
      }
      if (options_.archive_bounds)
        for (const auto& e : fresh) add(e);
      else
        fresh.clear();
    }
    save(0, fresh, elapsed());
  }

  const ArchQuery known = [&](const Arch& a) { return cache_.count(a) > 0; };
  while (true) {
    if (algorithm_.finished()) {
      result.stop_reason = "algorithm finished";
      break;
    }
    if (options_.max_evaluations && archive_.size() >= options_.max_evaluations) {
      result.stop_reason = "evaluation budget spent";
      break;
    }
    if (options_.max_seconds > 0 && elapsed() >= options_.max_seconds) {
      result.stop_reason = "time budget spent";
      break;
    }
    if (stalled_ >= options_.max_stalled_generations) {
      result.stop_reason =
          "no new architecture in " + std::to_string(stalled_) + " generations (space exhausted?)";
      break;
    }
    std::size_t n = algorithm_.batch_size();
    if (options_.max_evaluations) n = std::min(n, options_.max_evaluations - archive_.size());
    const std::vector<Arch> asked = algorithm_.ask(n, known);
    if (asked.empty()) {
      result.stop_reason = "algorithm finished";
      break;
    }
    ++generation;
    std::vector<Arch> fresh_archs;
    std::unordered_set<Arch, ArchHash> in_batch;
    for (const auto& a : asked)
      if (!cache_.count(a) && in_batch.insert(a).second) fresh_archs.push_back(a);
    std::vector<Evaluation> fresh;
    if (!fresh_archs.empty()) fresh = evaluate(fresh_archs, generation);
    for (const auto& e : fresh) add(e);
    stalled_ = fresh.empty() ? stalled_ + 1 : 0;
    std::vector<Evaluation> told;
    told.reserve(asked.size());
    for (const auto& a : asked) told.push_back(archive_[cache_.at(a)]);
    algorithm_.tell(told);
    const double hv = front_hypervolume();
    result.hypervolume_history.push_back(hv);
    const double t = elapsed();
    save(generation, fresh, t);
    if (progress_) progress_({generation, archive_.size(), front_.size(), hv, t});
    if (std::any_of(fresh.begin(), fresh.end(), [](const Evaluation& e) { return e.failed(); }))
      check_failures();
  }
  // Confirm the front: a provisional member may sit there only because its estimate was too
  // good, so members are re-evaluated until the front holds real values only.
  while (options_.provisional) {
    std::vector<std::size_t> todo;
    for (std::size_t f : front_)
      if (options_.provisional(archive_[f].arch)) todo.push_back(f);
    if (todo.empty()) break;
    std::vector<Arch> archs;
    for (std::size_t f : todo) archs.push_back(archive_[f].arch);
    std::vector<Evaluation> real = evaluate(archs, generation);
    for (std::size_t k = 0; k < todo.size(); ++k) {
      real[k].generation = archive_[todo[k]].generation;
      archive_[todo[k]] = real[k];
      if (options_.provisional(real[k].arch))
        throw Error(
            "search: the objectives still return an estimate for a front member on "
            "re-evaluation; cannot confirm the front");
    }
    front_.clear();
    for (std::size_t i = 0; i < archive_.size(); ++i) update_front(i);
    result.confirmed += todo.size();
    save(generation, {}, elapsed(), std::move(real));
  }
  if (options_.rescore) result.rescored = rescore_front(generation, elapsed);
  std::vector<std::size_t> front = front_;
  std::sort(front.begin(), front.end(), [&](std::size_t a, std::size_t b) {
    const auto& ea = archive_[a];
    const auto& eb = archive_[b];
    if (ea.objectives[0] != eb.objectives[0]) return ea.objectives[0] < eb.objectives[0];
    return ea.arch.genes < eb.arch.genes;
  });
  result.failed = static_cast<std::size_t>(std::count_if(
      archive_.begin(), archive_.end(), [](const Evaluation& e) { return e.failed(); }));
  if (front.empty() && !archive_.empty())
    throw Error("search: every one of the " + std::to_string(archive_.size()) +
                " evaluations failed (the last: " + archive_.back().failure +
                "); fix the evaluator and run again");
  result.front = std::move(front);
  result.hypervolume = front_hypervolume();
  result.bounds = options_.bounds;
  result.generations = generation;
  result.archive = archive_;
  return result;
}

}  // namespace hwnas
