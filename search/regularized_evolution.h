// Constrained regularized (aging) evolution (Real, Aggarwal, Huang & Le, AAAI 2019), on one
// scalar objective under the run's constraints (maximise accuracy subject to latency <= budget).
// Tournament selection with the oldest member dying; not Once-for-All's or HAT's evolution
// finders, which keep the best of each generation (truncation selection).
#pragma once

#include "search/algorithm.h"

namespace hwnas {

struct EvolutionParams {
  std::size_t population = 50;   ///< members alive; the OLDEST dies when a child is added
  std::size_t sample_size = 10;  ///< tournament size S (Real et al. used S = 25 of P = 100)
  std::size_t batch = 0;         ///< children per generation; 0 = population / 2
  /// Objective optimised; -1 = the first maximised objective, else objective 0.
  int target = -1;
  /// Per-gene re-draw probability of SearchSpace::mutate; <= 0 means 1 / (number of genes).
  double mutation_prob = 0.0;
  int max_tries = 20;  ///< redraws of an already evaluated child before accepting it
};

/// Regularized evolution: a population queue is filled with uniform samples; then each child
/// is a mutation of the best of S members drawn uniformly (best = feasible first, then smaller
/// total violation, then better target objective), appended to the queue, and the oldest
/// member is removed (aging, not truncation).
class RegularizedEvolution final : public Algorithm {
 public:
  RegularizedEvolution(const SearchSpace& space, const Problem& problem, EvolutionParams params,
                       std::uint64_t seed);
  std::string name() const override { return "evolution"; }
  std::size_t batch_size() const override { return params_.batch; }
  std::vector<Arch> ask(std::size_t max_n, const ArchQuery& evaluated) override;
  void tell(const std::vector<Evaluation>& evaluations) override;
  nlohmann::json save_state() const override;
  void load_state(const nlohmann::json& state) override;

  /// The objective being optimised (index into the problem's objectives).
  int target() const { return params_.target; }
  /// Members, oldest first.
  const std::vector<Individual>& population() const { return population_; }

 private:
  bool better(const Individual& a, const Individual& b) const;

  const SearchSpace& space_;
  EvolutionParams params_;
  Rng rng_;
  std::vector<Individual> population_;  // oldest first
  std::size_t failures_ = 0;
};

}  // namespace hwnas
