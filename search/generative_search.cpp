#include "search/generative_search.h"

#include <cmath>

#include "spaces/error.h"

namespace hwnas {

GenerativeSearch::GenerativeSearch(const SearchSpace& space, const Problem& problem,
                                   GenerativeParams params, std::uint64_t seed)
    : space_(space),
      params_(params),
      budget_(nlohmann::json::object()),
      rng_(seed),
      generator_(space, params.autoregressive) {
  if (params_.batch < 2) throw Error("generative: --population must be >= 2");
  if (!(params_.elite_fraction > 0 && params_.elite_fraction <= 1))
    throw Error("generative: elite fraction must lie in (0, 1]");
  for (const auto& c : problem.constraints()) budget_[c.metric->name()] = c.max_value;
}

std::vector<Arch> GenerativeSearch::ask(std::size_t max_n, const ArchQuery& evaluated) {
  std::vector<Arch> out;
  const std::size_t n = std::min(max_n, params_.batch);
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(draw_new([&] { return generator_.sample(rng_); }, evaluated, out,
                           params_.max_tries, &failures_));
  return out;
}

void GenerativeSearch::tell(const std::vector<Evaluation>& evaluations) {
  std::vector<Individual> pool = elites_;
  for (const auto& e : evaluations) {
    bool duplicate = false;
    for (const auto& m : pool) duplicate = duplicate || m.arch == e.arch;
    if (!duplicate) pool.push_back(Individual::from(e));
  }
  const std::size_t keep = std::max<std::size_t>(
      2, static_cast<std::size_t>(std::lround(params_.elite_fraction *
                                              static_cast<double>(params_.batch))));
  const auto order = nsga2_order(pool);
  elites_.clear();
  std::vector<Arch> archs;
  for (std::size_t i = 0; i < order.size() && i < keep; ++i) {
    elites_.push_back(pool[order[i]]);
    archs.push_back(pool[order[i]].arch);
  }
  generator_.fit(archs, params_.learning_rate, params_.entropy_floor);
}

nlohmann::json GenerativeSearch::save_state() const {
  return {{"algorithm", name()},
          {"rng", rng_to_string(rng_)},
          {"failures", failures_},
          {"generator", generator_.to_json()},
          {"elites", individuals_to_json(elites_)}};
}

void GenerativeSearch::load_state(const nlohmann::json& state) {
  if (state.value("algorithm", "") != name())
    throw Error("checkpoint holds the state of '" + state.value("algorithm", std::string("?")) +
                "', not of generative search");
  rng_ = rng_from_string(state.at("rng").get<std::string>());
  failures_ = state.at("failures").get<std::size_t>();
  generator_ = ArchGenerator::from_json(space_, state.at("generator"));
  elites_ = individuals_from_json(state.at("elites"), space_.name());
}

nlohmann::json GenerativeSearch::result() const {
  nlohmann::json g = generator_.to_json();
  g["budget"] = budget_;
  g["normalised_entropy"] = generator_.normalised_entropy();
  return {{"generator", g}};
}

}  // namespace hwnas
