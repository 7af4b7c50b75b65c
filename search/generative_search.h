// Generative search: learn a generator of good architectures (TurboViT, Wong et al. 2023, whose
// contribution is generative architecture search) with the cross-entropy method, conditioned on
// the budget of the first objective (latency).
#pragma once

#include "search/algorithm.h"
#include "search/arch_generator.h"

namespace hwnas {

struct GenerativeParams {
  std::size_t batch = 50;       ///< samples per generation, spread evenly over the budget bins
  std::size_t bins = 5;         ///< budget levels the generator is conditioned on
  std::size_t elites = 0;       ///< elites per bin; 0 = max(3, batch / bins)
  double learning_rate = 0.5;   ///< CEM smoothing of the distribution update
  double entropy_floor = 0.3;   ///< minimum entropy per choice, as a fraction of log(options)
  bool autoregressive = false;  ///< factorised or first-order autoregressive generators
  int max_tries = 20;           ///< redraws of an already evaluated sample before accepting it
};

/// A budget-conditioned generator: one ArchGenerator per budget level b_1 < ... < b_K of the
/// first objective (the condition, e.g. latency in ms; in minimisation form), trained by the
/// cross-entropy method (Rubinstein 1999) on that level's elites: the best feasible archs whose
/// condition value is <= b_k, ranked on the remaining objectives (Pareto rank, then crowding;
/// with one remaining objective simply the best accuracy within the budget). The levels split
/// [best condition value seen in generation 1, the constraint bound on the condition metric (or
/// the worst value seen)] evenly, so b_K is the run's constraint budget.
/// A level with no feasible arch within its budget learns from the least violating archs
/// (constrained domination). Generation 1 samples uniformly; sample i of a generation comes
/// from level i mod K.
class GenerativeSearch final : public Algorithm {
 public:
  GenerativeSearch(const SearchSpace& space, const Problem& problem, GenerativeParams params,
                   std::uint64_t seed);
  std::string name() const override { return "generative"; }
  std::size_t batch_size() const override { return params_.batch; }
  std::vector<Arch> ask(std::size_t max_n, const ArchQuery& evaluated) override;
  void tell(const std::vector<Evaluation>& evaluations) override;
  nlohmann::json save_state() const override;
  void load_state(const nlohmann::json& state) override;
  /// {"generator": {"kind": "budget-conditioned", "condition": name, "unit", "sense",
  ///  "levels": [{"budget": b (natural units), "generator": ArchGenerator JSON}], "constraints"}}
  /// (read by `hwnas generate`, see sample_from_saved_generator).
  nlohmann::json result() const override;

  std::size_t levels() const { return generators_.size(); }
  const ArchGenerator& generator(std::size_t level) const { return generators_.at(level); }

 private:
  const SearchSpace& space_;
  GenerativeParams params_;
  std::string condition_name_, condition_unit_;
  bool condition_negated_ = false;  // the condition objective is maximised
  double constraint_bound_ = 0.0;   // in fitness units; valid if has_bound_
  bool has_bound_ = false;
  nlohmann::json constraints_;
  Rng rng_;
  std::vector<ArchGenerator> generators_;
  std::vector<double> budgets_;                  // fitness units; empty until generation 1
  std::vector<std::vector<Individual>> elites_;  // per level
  std::size_t failures_ = 0;
};

/// Draws `n` archs from a generator saved in front.json / generator.json (GenerativeSearch::
/// result()["generator"]): from the level with the largest budget <= `budget` (natural units;
/// NaN = the top level). Throws hwnas::Error if the JSON does not fit `space` or no level fits
/// the budget.
std::vector<Arch> sample_from_saved_generator(const SearchSpace& space, const nlohmann::json& saved,
                                              std::size_t n, std::uint64_t seed, double budget);

}  // namespace hwnas
