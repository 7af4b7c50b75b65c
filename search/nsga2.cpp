#include "search/nsga2.h"

#include <unordered_set>

#include "core/error.h"

namespace hwnas {

Nsga2::Nsga2(const SearchSpace& space, Nsga2Params params, std::uint64_t seed)
    : space_(space), params_(params), rng_(seed) {
  if (params_.population < 2) throw Error("nsga2: --population must be >= 2");
  if (params_.mutation_prob <= 0)
    params_.mutation_prob =
        1.0 / static_cast<double>(std::max<std::size_t>(1, space.dims().size()));
}

void Nsga2::rank_population() {
  std::vector<Point> pts;
  std::vector<double> viol;
  for (const auto& p : population_) {
    pts.push_back(p.fitness);
    viol.push_back(p.violation);
  }
  rank_.assign(population_.size(), 0);
  crowding_.assign(population_.size(), 0.0);
  const auto fronts = non_dominated_sort(pts, viol);
  for (std::size_t r = 0; r < fronts.size(); ++r) {
    const auto d = crowding_distance(pts, fronts[r]);
    for (std::size_t i = 0; i < fronts[r].size(); ++i) {
      rank_[fronts[r][i]] = r;
      crowding_[fronts[r][i]] = d[i];
    }
  }
}

// Binary tournament with the crowded-comparison operator (lower rank, then larger crowding
// distance); a full tie goes to the first drawn.
std::size_t Nsga2::tournament() {
  const int n = static_cast<int>(population_.size());
  const auto a = static_cast<std::size_t>(uniform_int(rng_, 0, n - 1));
  const auto b = static_cast<std::size_t>(uniform_int(rng_, 0, n - 1));
  if (rank_[a] != rank_[b]) return rank_[a] < rank_[b] ? a : b;
  return crowding_[b] > crowding_[a] ? b : a;
}

std::vector<Arch> Nsga2::ask(std::size_t max_n, const ArchQuery& evaluated) {
  std::vector<Arch> out;
  const std::size_t n = std::min(max_n, params_.population);
  for (std::size_t i = 0; i < n; ++i) {
    if (population_.empty()) {
      out.push_back(draw_new([&] { return space_.sample(rng_); }, evaluated, out, params_.max_tries,
                             &failures_));
      continue;
    }
    out.push_back(draw_new(
        [&] {
          const Arch& p1 = population_[tournament()].arch;
          const Arch& p2 = population_[tournament()].arch;
          Arch child =
              uniform_real(rng_) < params_.crossover_prob ? space_.crossover(p1, p2, rng_) : p1;
          return space_.mutate(child, rng_, params_.mutation_prob);
        },
        evaluated, out, params_.max_tries, &failures_));
  }
  return out;
}

void Nsga2::tell(const std::vector<Evaluation>& evaluations) {
  std::vector<Individual> merged = population_;
  std::unordered_set<Arch, ArchHash> present;
  for (const auto& m : merged) present.insert(m.arch);
  for (const auto& e : evaluations) {
    // A child identical to a member adds nothing but would take a slot from diversity.
    if (present.insert(e.arch).second) merged.push_back(Individual::from(e));
  }
  const auto order = nsga2_order(merged);
  population_.clear();
  for (std::size_t i = 0; i < order.size() && i < params_.population; ++i)
    population_.push_back(merged[order[i]]);
  rank_population();
}

nlohmann::json Nsga2::save_state() const {
  return {{"algorithm", name()},
          {"rng", rng_to_string(rng_)},
          {"failures", failures_},
          {"population", individuals_to_json(population_)}};
}

void Nsga2::load_state(const nlohmann::json& state) {
  if (state.value("algorithm", "") != name())
    throw Error("checkpoint holds the state of '" + state.value("algorithm", std::string("?")) +
                "', not of nsga2");
  rng_ = rng_from_string(state.at("rng").get<std::string>());
  failures_ = state.at("failures").get<std::size_t>();
  population_ = individuals_from_json(state.at("population"), space_.name());
  rank_population();
}

}  // namespace hwnas
