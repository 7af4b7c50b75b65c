// Random search: uniform sampling of the space (the baseline every other algorithm must beat).
#pragma once

#include "search/algorithm.h"

namespace hwnas {

struct RandomSearchParams {
  std::size_t batch = 50;  ///< archs per generation
  int max_tries = 20;      ///< redraws of an already evaluated arch before accepting it
};

/// Uniform random search: each generation draws `batch` archs with SearchSpace::sample
/// (uniform over each dimension's options, subject to the space's constraints), redrawing
/// archs that were already evaluated (retry cap max_tries; failures counted in the state).
class RandomSearch final : public Algorithm {
 public:
  RandomSearch(const SearchSpace& space, RandomSearchParams params, std::uint64_t seed);
  std::string name() const override { return "random"; }
  std::size_t batch_size() const override { return params_.batch; }
  std::vector<Arch> ask(std::size_t max_n, const ArchQuery& evaluated) override;
  void tell(const std::vector<Evaluation>&) override {}
  nlohmann::json save_state() const override;
  void load_state(const nlohmann::json& state) override;

 private:
  const SearchSpace& space_;
  RandomSearchParams params_;
  Rng rng_;
  std::size_t failures_ = 0;
};

}  // namespace hwnas
