// Generative search: learn a generator of good architectures (TurboViT, Wong et al. 2023, whose
// contribution is generative architecture search) with the cross-entropy method.
#pragma once

#include <optional>

#include "search/algorithm.h"
#include "search/arch_generator.h"

namespace hwnas {

struct GenerativeParams {
  std::size_t batch = 50;       ///< samples per generation
  double elite_fraction = 0.25; ///< elites kept = max(2, elite_fraction * batch)
  double learning_rate = 0.5;   ///< CEM smoothing of the distribution update
  double entropy_floor = 0.3;   ///< minimum entropy per choice, as a fraction of log(options)
  bool autoregressive = false;  ///< factorised or first-order autoregressive generator
  int max_tries = 20;           ///< redraws of an already evaluated sample before accepting it
};

/// Each generation samples `batch` archs from the generator; the elite set is the best
/// max(2, elite_fraction * batch) of (previous elites + the new samples) in NSGA-II order under
/// constrained domination, so the generator is trained on the best *feasible* archs of the run's
/// constraint budget (which the saved generator records); then ArchGenerator::fit.
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
  /// {"generator": ArchGenerator JSON + "budget": {metric: max}} (read by `hwnas generate`).
  nlohmann::json result() const override;

  const ArchGenerator& generator() const { return generator_; }

 private:
  const SearchSpace& space_;
  GenerativeParams params_;
  nlohmann::json budget_;
  Rng rng_;
  ArchGenerator generator_;
  std::vector<Individual> elites_;
  std::size_t failures_ = 0;
};

}  // namespace hwnas
