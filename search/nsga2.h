// NSGA-II (Deb, Pratap, Agarwal & Meyarivan, IEEE TEC 2002).
#pragma once

#include "search/algorithm.h"

namespace hwnas {

struct Nsga2Params {
  std::size_t population = 50;  ///< parents kept; also the offspring per generation
  double crossover_prob = 0.9;  ///< probability a child comes from SearchSpace::crossover
  /// Per-gene re-draw probability of SearchSpace::mutate; <= 0 means 1 / (number of genes).
  double mutation_prob = 0.0;
  int max_tries = 20;  ///< redraws of a child that was already evaluated before accepting it
};

/// NSGA-II with constrained domination: the first generation is uniform random; then each
/// generation breeds `population` children by binary tournament on (rank, crowding distance),
/// the space's crossover and mutation; parents and children are merged and the best
/// `population` survive by fast non-dominated sort and crowding distance.
class Nsga2 final : public Algorithm {
 public:
  Nsga2(const SearchSpace& space, Nsga2Params params, std::uint64_t seed);
  std::string name() const override { return "nsga2"; }
  std::size_t batch_size() const override { return params_.population; }
  std::vector<Arch> ask(std::size_t max_n, const ArchQuery& evaluated) override;
  void tell(const std::vector<Evaluation>& evaluations) override;
  nlohmann::json save_state() const override;
  void load_state(const nlohmann::json& state) override;

  const std::vector<Individual>& population() const { return population_; }

 private:
  void rank_population();
  std::size_t tournament();

  const SearchSpace& space_;
  Nsga2Params params_;
  Rng rng_;
  std::vector<Individual> population_;
  std::vector<std::size_t> rank_;  // per population member
  std::vector<double> crowding_;   // per population member
  std::size_t failures_ = 0;
};

}  // namespace hwnas
