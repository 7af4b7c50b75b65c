#include "search/algorithm.h"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "core/error.h"
#include "search/flops_window_evolution.h"
#include "search/generative_search.h"
#include "search/nsga2.h"
#include "search/random_search.h"
#include "search/regularized_evolution.h"
#include "search/slimming.h"

namespace hwnas {

nlohmann::json individuals_to_json(const std::vector<Individual>& people) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : people)
    out.push_back({{"genes", p.arch.genes}, {"fitness", p.fitness}, {"violation", p.violation}});
  return out;
}

std::vector<Individual> individuals_from_json(const nlohmann::json& j, const std::string& space) {
  std::vector<Individual> out;
  for (const auto& p : j)
    out.push_back({Arch{space, p.at("genes").get<std::vector<int>>()}, p.at("fitness").get<Point>(),
                   p.at("violation").get<double>()});
  return out;
}

std::string rng_to_string(const Rng& rng) {
  std::ostringstream os;
  os << rng;
  return os.str();
}

Rng rng_from_string(const std::string& text) {
  std::istringstream is(text);
  Rng rng;
  is >> rng;
  if (is.fail()) throw Error("checkpoint: the saved random stream is malformed");
  return rng;
}

std::vector<std::size_t> nsga2_order(const std::vector<Individual>& people) {
  std::vector<Point> pts;
  std::vector<double> viol;
  for (const auto& p : people) {
    pts.push_back(p.fitness);
    viol.push_back(p.violation);
  }
  std::vector<std::size_t> order;
  for (const auto& front : non_dominated_sort(pts, viol)) {
    const auto d = crowding_distance(pts, front);
    std::vector<std::size_t> idx(front.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(),
                     [&](std::size_t a, std::size_t b) { return d[a] > d[b]; });
    for (std::size_t i : idx) order.push_back(front[i]);
  }
  return order;
}

Arch draw_new(const std::function<Arch()>& draw, const ArchQuery& evaluated,
              const std::vector<Arch>& taken, int max_tries, std::size_t* failures) {
  Arch a;
  for (int t = 0; t < std::max(1, max_tries); ++t) {
    a = draw();
    const bool seen =
        (evaluated && evaluated(a)) || std::find(taken.begin(), taken.end(), a) != taken.end();
    if (!seen) return a;
    ++*failures;
  }
  return a;
}

const std::vector<std::string>& algorithm_names() {
  static const std::vector<std::string> names = {
      "random", "nsga2", "evolution", "generative", "slimming", "flops-window-evolution"};
  return names;
}

std::unique_ptr<Algorithm> make_algorithm(const AlgorithmOptions& options, const Problem& problem) {
  const SearchSpace& space = problem.space();
  const std::string& n = options.name;
  if (n == "random")
    return std::make_unique<RandomSearch>(space, RandomSearchParams{options.population, 20},
                                          options.seed);
  if (n == "nsga2") {
    Nsga2Params p;
    p.population = options.population;
    return std::make_unique<Nsga2>(space, p, options.seed);
  }
  if (n == "evolution") {
    EvolutionParams p;
    p.population = options.population;
    return std::make_unique<RegularizedEvolution>(space, problem, p, options.seed);
  }
  if (n == "generative") {
    GenerativeParams p;
    p.batch = options.population;
    p.autoregressive = options.autoregressive;
    return std::make_unique<GenerativeSearch>(space, problem, p, options.seed);
  }
  if (n == "slimming") {
    SlimmingParams p;
    p.start = options.start;
    for (std::size_t k = 0; k < problem.objectives().size(); ++k)
      if (problem.objectives()[k]->unit() == "ms" &&
          problem.objectives()[k]->sense() == Sense::minimize) {
        p.latency_objective = static_cast<int>(k);
        for (const auto& c : problem.constraints())
          if (c.metric->name() == problem.objectives()[k]->name()) p.latency_max_ms = c.max_value;
        break;
      }
    return std::make_unique<Slimming>(space, problem, p);
  }
  if (n == "flops-window-evolution") {
    FlopsWindowParams p;
    p.window_mflops = options.flops_window;
    p.window_width_mflops = options.flops_window_width;
    p.population = options.population;
    p.top_k = options.top_k;
    if (options.mutation_prob > 0) p.mutation_prob = options.mutation_prob;
    return std::make_unique<FlopsWindowEvolution>(space, problem, p, options.seed);
  }
  std::string known;
  for (const auto& k : algorithm_names()) known += (known.empty() ? "" : ", ") + k;
  throw Error("unknown algorithm '" + n + "'; known: " + known);
}

}  // namespace hwnas
