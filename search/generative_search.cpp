#include "search/generative_search.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace hwnas {

GenerativeSearch::GenerativeSearch(const SearchSpace& space, const Problem& problem,
                                   GenerativeParams params, std::uint64_t seed)
    : space_(space), params_(params), constraints_(nlohmann::json::object()), rng_(seed) {
  if (params_.batch < 2) throw Error("generative: --population must be >= 2");
  if (params_.bins == 0) throw Error("generative: needs at least one budget level");
  params_.bins = std::min(params_.bins, params_.batch);
  if (params_.elites == 0) params_.elites = std::max<std::size_t>(3, params_.batch / params_.bins);
  const auto& cond = problem.objectives().front();
  condition_name_ = cond->name();
  condition_unit_ = cond->unit();
  condition_negated_ = cond->sense() == Sense::maximize;
  for (const auto& c : problem.constraints()) {
    constraints_[c.metric->name()] = c.max_value;
    if (c.metric->name() == condition_name_ && !condition_negated_) {
      constraint_bound_ = c.max_value;
      has_bound_ = true;
    }
  }
  for (std::size_t k = 0; k < params_.bins; ++k)
    generators_.emplace_back(space, params_.autoregressive);
  elites_.resize(params_.bins);
}

std::vector<Arch> GenerativeSearch::ask(std::size_t max_n, const ArchQuery& evaluated) {
  std::vector<Arch> out;
  const std::size_t n = std::min(max_n, params_.batch);
  for (std::size_t i = 0; i < n; ++i) {
    const ArchGenerator& g = generators_[i % generators_.size()];
    out.push_back(
        draw_new([&] { return g.sample(rng_); }, evaluated, out, params_.max_tries, &failures_));
  }
  return out;
}

void GenerativeSearch::tell(const std::vector<Evaluation>& evaluations) {
  if (evaluations.empty()) return;
  if (budgets_.empty()) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& e : evaluations) {
      lo = std::min(lo, e.fitness[0]);
      hi = std::max(hi, e.fitness[0]);
    }
    if (has_bound_) hi = std::max(lo, constraint_bound_);
    for (std::size_t k = 0; k < params_.bins; ++k)
      budgets_.push_back(lo + (hi - lo) * static_cast<double>(k + 1) /
                                  static_cast<double>(params_.bins));
  }
  std::vector<Individual> fresh;
  for (const auto& e : evaluations) fresh.push_back(Individual::from(e));
  std::vector<std::vector<Individual>> next(params_.bins);
  for (std::size_t k = 0; k < params_.bins; ++k) {
    // Candidates within budget k: every level's elites and the new samples (feasible only).
    std::vector<Individual> pool;
    auto offer = [&](const Individual& p) {
      if (p.violation > 0 || p.fitness[0] > budgets_[k]) return;
      for (const auto& q : pool)
        if (q.arch == p.arch) return;
      pool.push_back(p);
    };
    for (const auto& level : elites_)
      for (const auto& p : level) offer(p);
    for (const auto& p : fresh) offer(p);
    std::vector<std::size_t> order;
    if (pool.empty()) {
      // Nothing feasible within this budget yet: learn from the least violating archs
      // (constrained domination), so the generator moves towards feasibility.
      auto add = [&](const Individual& p) {
        for (const auto& q : pool)
          if (q.arch == p.arch) return;
        pool.push_back(p);
      };
      for (const auto& level : elites_)
        for (const auto& p : level) add(p);
      for (const auto& p : fresh) add(p);
      order = nsga2_order(pool);
    } else {
      // Rank on the objectives other than the condition.
      std::vector<Individual> rest = pool;
      for (auto& p : rest) p.fitness.erase(p.fitness.begin());
      order = nsga2_order(rest);
    }
    std::vector<Arch> archs;
    for (std::size_t i = 0; i < order.size() && i < params_.elites; ++i) {
      next[k].push_back(pool[order[i]]);
      archs.push_back(pool[order[i]].arch);
    }
    if (!archs.empty()) generators_[k].fit(archs, params_.learning_rate, params_.entropy_floor);
  }
  elites_ = std::move(next);
}

nlohmann::json GenerativeSearch::save_state() const {
  nlohmann::json gens = nlohmann::json::array(), elites = nlohmann::json::array();
  for (const auto& g : generators_) gens.push_back(g.to_json());
  for (const auto& e : elites_) elites.push_back(individuals_to_json(e));
  return {{"algorithm", name()}, {"rng", rng_to_string(rng_)}, {"failures", failures_},
          {"budgets", budgets_}, {"generators", gens},         {"elites", elites}};
}

void GenerativeSearch::load_state(const nlohmann::json& state) {
  if (state.value("algorithm", "") != name())
    throw Error("checkpoint holds the state of '" + state.value("algorithm", std::string("?")) +
                "', not of generative search");
  rng_ = rng_from_string(state.at("rng").get<std::string>());
  failures_ = state.at("failures").get<std::size_t>();
  budgets_ = state.at("budgets").get<std::vector<double>>();
  const auto& gens = state.at("generators");
  if (gens.size() != generators_.size())
    throw Error("checkpoint: generative search has " + std::to_string(gens.size()) +
                " levels, expected " + std::to_string(generators_.size()));
  for (std::size_t k = 0; k < gens.size(); ++k)
    generators_[k] = ArchGenerator::from_json(space_, gens[k]);
  elites_.clear();
  for (const auto& e : state.at("elites"))
    elites_.push_back(individuals_from_json(e, space_.name()));
  elites_.resize(generators_.size());
}

nlohmann::json GenerativeSearch::result() const {
  nlohmann::json levels = nlohmann::json::array();
  for (std::size_t k = 0; k < generators_.size(); ++k) {
    const double b = k < budgets_.size() ? budgets_[k] : std::numeric_limits<double>::quiet_NaN();
    nlohmann::json g = generators_[k].to_json();
    g["normalised_entropy"] = generators_[k].normalised_entropy();
    levels.push_back({{"budget", condition_negated_ ? -b : b}, {"generator", g}});
  }
  return {{"generator",
           {{"kind", "budget-conditioned"},
            {"condition", condition_name_},
            {"unit", condition_unit_},
            {"sense", condition_negated_ ? "max" : "min"},
            {"constraints", constraints_},
            {"levels", levels}}}};
}

std::vector<Arch> sample_from_saved_generator(const SearchSpace& space, const nlohmann::json& saved,
                                              std::size_t n, std::uint64_t seed, double budget) {
  try {
    if (saved.value("kind", "") != "budget-conditioned")
      throw Error("the saved generator is not a budget-conditioned generator of hwnas");
    const auto& levels = saved.at("levels");
    if (levels.empty()) throw Error("the saved generator has no levels");
    const bool negated = saved.value("sense", "min") == "max";
    std::size_t pick = levels.size() - 1;
    if (!std::isnan(budget)) {
      bool found = false;
      for (std::size_t k = 0; k < levels.size(); ++k) {
        if (levels[k].at("budget").is_null()) continue;
        const double b = levels[k].at("budget").get<double>();
        if (negated ? b >= budget : b <= budget) {
          pick = k;
          found = true;
        }
      }
      if (!found)
        throw Error("no level of the saved generator fits the budget " + std::to_string(budget) +
                    " " + saved.value("unit", std::string()) + "; the smallest is " +
                    levels.front().at("budget").dump());
    }
    const ArchGenerator g = ArchGenerator::from_json(space, levels[pick].at("generator"));
    Rng rng(seed);
    std::vector<Arch> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(g.sample(rng));
    return out;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("the saved generator is malformed: ") + e.what());
  }
}

}  // namespace hwnas
