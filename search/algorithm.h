// Algorithm: the ask/tell interface every search algorithm implements.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/rng.h"
#include "search/evaluation.h"
#include "search/problem.h"
#include "spaces/search_space.h"

namespace hwnas {

/// Answers "was this arch evaluated already?" (the runner's cache), so algorithms can spend
/// their proposals on new architectures.
using ArchQuery = std::function<bool(const Arch&)>;

/// A search algorithm driven by SearchRunner: ask() proposes a generation, tell() receives its
/// evaluations. The algorithm owns its random stream (seeded at construction), and everything
/// it needs to continue is in save_state(), so a run resumed from a checkpoint proceeds exactly
/// as an uninterrupted one.
class Algorithm {
 public:
  virtual ~Algorithm() = default;
  /// Registry name ("nsga2", ...).
  virtual std::string name() const = 0;
  /// Preferred number of archs per generation.
  virtual std::size_t batch_size() const = 0;
  /// Up to `max_n` valid archs to evaluate next (duplicates allowed; the runner evaluates each
  /// arch once). An empty answer means the algorithm has finished.
  virtual std::vector<Arch> ask(std::size_t max_n, const ArchQuery& evaluated) = 0;
  /// The evaluations of the archs of the last ask(), in the same order.
  virtual void tell(const std::vector<Evaluation>& evaluations) = 0;
  /// True once the algorithm has nothing more to do (e.g. slimming reached its target).
  virtual bool finished() const { return false; }
  /// Everything needed to continue (population, random stream, ...), as JSON.
  virtual nlohmann::json save_state() const = 0;
  /// Restores save_state()'s output. Throws hwnas::Error if it does not fit this algorithm.
  virtual void load_state(const nlohmann::json& state) = 0;
  /// Extra results for front.json (a slimming trajectory, a generator), or null.
  virtual nlohmann::json result() const { return nullptr; }
};

/// What an algorithm keeps of an evaluation: the arch, its minimisation fitness and violation.
struct Individual {
  Arch arch;
  Point fitness;
  double violation = 0.0;

  static Individual from(const Evaluation& e) { return {e.arch, e.fitness, e.violation}; }
};

/// JSON round trip of individuals and random streams (exact: doubles print shortest-exact).
nlohmann::json individuals_to_json(const std::vector<Individual>& people);
std::vector<Individual> individuals_from_json(const nlohmann::json& j, const std::string& space);
std::string rng_to_string(const Rng& rng);
/// Throws hwnas::Error on a malformed state string.
Rng rng_from_string(const std::string& text);

/// Indices of `people` in NSGA-II survival order: by constrained non-dominated rank, then by
/// decreasing crowding distance within a front (Deb et al. 2002); the first k are the k best.
std::vector<std::size_t> nsga2_order(const std::vector<Individual>& people);

/// Draws a valid arch not yet evaluated and not in `taken`, at most `max_tries` draws; returns
/// the last draw if all tries collide and adds the number of collisions to `*failures`.
Arch draw_new(const std::function<Arch()>& draw, const ArchQuery& evaluated,
              const std::vector<Arch>& taken, int max_tries, std::size_t* failures);

}  // namespace hwnas
