#include "search/regularized_evolution.h"

#include "core/error.h"

namespace hwnas {

RegularizedEvolution::RegularizedEvolution(const SearchSpace& space, const Problem& problem,
                                           EvolutionParams params, std::uint64_t seed)
    : space_(space), params_(params), rng_(seed) {
  if (params_.population < 2) throw Error("evolution: --population must be >= 2");
  if (params_.sample_size == 0 || params_.sample_size > params_.population)
    params_.sample_size = std::max<std::size_t>(2, params_.population / 4);
  if (params_.batch == 0) params_.batch = std::max<std::size_t>(1, params_.population / 2);
  params_.target = problem.target_objective(params_.target, "evolution");
  if (params_.mutation_prob <= 0)
    params_.mutation_prob =
        1.0 / static_cast<double>(std::max<std::size_t>(1, space.dims().size()));
}

bool RegularizedEvolution::better(const Individual& a, const Individual& b) const {
  const bool fa = a.violation <= 0, fb = b.violation <= 0;
  if (fa != fb) return fa;
  if (!fa) return a.violation < b.violation;
  return a.fitness[params_.target] < b.fitness[params_.target];
}

std::vector<Arch> RegularizedEvolution::ask(std::size_t max_n, const ArchQuery& evaluated) {
  std::vector<Arch> out;
  const std::size_t n = std::min(max_n, params_.batch);
  // Until the queue is full, members are uniform samples (Real et al., Algorithm 1).
  const bool filling = population_.size() < params_.population;
  const std::size_t count = filling ? std::min(max_n, params_.population - population_.size()) : n;
  for (std::size_t i = 0; i < count; ++i) {
    if (filling) {
      out.push_back(draw_new([&] { return space_.sample(rng_); }, evaluated, out, params_.max_tries,
                             &failures_));
      continue;
    }
    out.push_back(draw_new(
        [&] {
          const int size = static_cast<int>(population_.size());
          std::size_t best = static_cast<std::size_t>(uniform_int(rng_, 0, size - 1));
          for (std::size_t s = 1; s < params_.sample_size; ++s) {
            const auto c = static_cast<std::size_t>(uniform_int(rng_, 0, size - 1));
            if (better(population_[c], population_[best])) best = c;
          }
          return space_.mutate(population_[best].arch, rng_, params_.mutation_prob);
        },
        evaluated, out, params_.max_tries, &failures_));
  }
  return out;
}

void RegularizedEvolution::tell(const std::vector<Evaluation>& evaluations) {
  for (const auto& e : evaluations) {
    population_.push_back(Individual::from(e));
    if (population_.size() > params_.population) population_.erase(population_.begin());
  }
}

nlohmann::json RegularizedEvolution::save_state() const {
  return {{"algorithm", name()},
          {"rng", rng_to_string(rng_)},
          {"failures", failures_},
          {"target", params_.target},
          {"population", individuals_to_json(population_)}};
}

void RegularizedEvolution::load_state(const nlohmann::json& state) {
  if (state.value("algorithm", "") != name())
    throw Error("checkpoint holds the state of '" + state.value("algorithm", std::string("?")) +
                "', not of evolution");
  rng_ = rng_from_string(state.at("rng").get<std::string>());
  failures_ = state.at("failures").get<std::size_t>();
  population_ = individuals_from_json(state.at("population"), space_.name());
}

}  // namespace hwnas
