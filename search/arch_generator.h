// ArchGenerator: a learned probability distribution over a space's choices.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "core/rng.h"
#include "spaces/search_space.h"

namespace hwnas {

/// A generator of architectures (TurboViT's generative search, here as an explicit
/// distribution): factorised, p(x) = prod_d p_d(x_d), or first-order autoregressive,
/// p(x) = p_0(x_0) prod_{d>0} p_d(x_d | x_{d-1}) (each choice conditioned on the choice before
/// it, in the order of SearchSpace::dims()). Starts uniform.
class ArchGenerator {
 public:
  ArchGenerator(const SearchSpace& space, bool autoregressive);

  /// Draws one gene per dimension, then SearchSpace::repair makes it valid. Const and
  /// deterministic given the stream.
  Arch sample(Rng& rng) const;

  /// Cross-entropy-method update (Rubinstein 1999) towards the empirical distribution of
  /// `elites`: p <- (1 - learning_rate) p + learning_rate p_elite, row by row (rows whose
  /// context no elite has are kept); then each row is mixed with the uniform distribution just
  /// enough that its entropy is >= entropy_floor * log(options) (the floor keeps it from
  /// collapsing early). learning_rate and entropy_floor in [0, 1]; throws hwnas::Error outside.
  void fit(const std::vector<Arch>& elites, double learning_rate, double entropy_floor);

  /// Mean over dimensions of the entropy of p_d (factorised) or of the rows (autoregressive),
  /// divided by log(options): 1 = uniform, 0 = deterministic.
  double normalised_entropy() const;

  bool autoregressive() const { return autoregressive_; }

  /// {"space", "kind": "factorised"|"autoregressive", "dims": [names], "options": [[...]],
  ///  "probs": [[[...]]]} ; from_json checks it against the space and throws hwnas::Error.
  nlohmann::json to_json() const;
  static ArchGenerator from_json(const SearchSpace& space, const nlohmann::json& j);

 private:
  std::size_t context(std::size_t d, const std::vector<int>& option_index) const;

  const SearchSpace* space_;
  bool autoregressive_;
  // probs_[d][context][option]; context is 0 for the factorised generator and for d = 0.
  std::vector<std::vector<std::vector<double>>> probs_;
};

}  // namespace hwnas
