#include "search/algorithm_registry.h"

#include "core/error.h"
#include "search/flops_window_evolution.h"
#include "search/generative_search.h"
#include "search/nsga2.h"
#include "search/random_search.h"
#include "search/regularized_evolution.h"
#include "search/slimming.h"

namespace hwnas {
namespace {

std::vector<AlgorithmTraits> make_registry() {
  std::vector<AlgorithmTraits> r;
  r.push_back({"random",
               {},
               "uniform random sampling",
               false,
               true,
               nlohmann::json::object(),
               [](const AlgorithmSetup& s, const Problem& p) -> std::unique_ptr<Algorithm> {
                 return std::make_unique<RandomSearch>(
                     p.space(), RandomSearchParams{s.population, 20}, s.seed);
               }});
  r.push_back({"nsga2",
               {},
               "NSGA-II (Deb et al. 2002)",
               false,
               true,
               nlohmann::json::object(),
               [](const AlgorithmSetup& s, const Problem& p) -> std::unique_ptr<Algorithm> {
                 Nsga2Params np;
                 np.population = s.population;
                 return std::make_unique<Nsga2>(p.space(), np, s.seed);
               }});
  r.push_back({"evolution",
               {"regularized-evolution"},
               "regularized (aging) evolution on one objective under the constraints (Real et "
               "al. 2019)",
               false,
               true,
               nlohmann::json::object(),
               [](const AlgorithmSetup& s, const Problem& p) -> std::unique_ptr<Algorithm> {
                 EvolutionParams ep;
                 ep.population = s.population;
                 return std::make_unique<RegularizedEvolution>(p.space(), p, ep, s.seed);
               }});
  r.push_back({"generative",
               {},
               "budget-conditioned generators trained by the cross-entropy method",
               false,
               true,
               {{"autoregressive", false}},
               [](const AlgorithmSetup& s, const Problem& p) -> std::unique_ptr<Algorithm> {
                 GenerativeParams gp;
                 gp.batch = s.population;
                 gp.autoregressive = s.params.at("autoregressive").get<bool>();
                 return std::make_unique<GenerativeSearch>(p.space(), p, gp, s.seed);
               }});
  r.push_back({"slimming",
               {},
               "EfficientFormer's greedy slimming from the largest (or --start) arch",
               true,
               true,
               {{"start", ""}},
               [](const AlgorithmSetup& s, const Problem& p) -> std::unique_ptr<Algorithm> {
                 SlimmingParams sp;
                 const std::string start = s.params.at("start").get<std::string>();
                 if (!start.empty()) sp.start = p.space().resolve(start);
                 // The target is the constraint on the first minimised latency objective.
                 for (std::size_t k = 0; k < p.objectives().size(); ++k)
                   if (p.objectives()[k]->unit() == "ms" &&
                       p.objectives()[k]->sense() == Sense::minimize) {
                     sp.latency_objective = static_cast<int>(k);
                     for (const auto& c : p.constraints())
                       if (c.metric->name() == p.objectives()[k]->name())
                         sp.latency_max_ms = c.max_value;
                     break;
                   }
                 return std::make_unique<Slimming>(p.space(), p, sp);
               }});
  r.push_back(
      {"flops-window-evolution",
       {},
       "ElasticViT's evolution inside a FLOPs window [T, T + width]",
       false,
       false,
       {{"flops_window", 0.0}, {"flops_window_width", 20.0}, {"top_k", 0}, {"mutation_prob", 0.0}},
       [](const AlgorithmSetup& s, const Problem& p) -> std::unique_ptr<Algorithm> {
         FlopsWindowParams fp;
         fp.window_mflops = s.params.at("flops_window").get<double>();
         fp.window_width_mflops = s.params.at("flops_window_width").get<double>();
         fp.population = s.population;
         const auto top_k = s.params.at("top_k").get<double>();
         if (top_k < 0) throw Error("flops-window-evolution: top_k must be >= 0");
         fp.top_k = static_cast<std::size_t>(top_k);
         // <= 0 keeps the reference code's 0.2.
         if (const double m = s.params.at("mutation_prob").get<double>(); m > 0)
           fp.mutation_prob = m;
         return std::make_unique<FlopsWindowEvolution>(p.space(), p, fp, s.seed);
       }});
  return r;
}

bool same_kind(const nlohmann::json& want, const nlohmann::json& got) {
  if (want.is_number()) return got.is_number();
  return want.type() == got.type();
}

}  // namespace

const std::vector<AlgorithmTraits>& algorithm_registry() {
  static const std::vector<AlgorithmTraits> registry = make_registry();
  return registry;
}

std::vector<std::string> algorithm_names() {
  std::vector<std::string> names;
  for (const auto& t : algorithm_registry()) names.push_back(t.name);
  return names;
}

const AlgorithmTraits& find_algorithm(const std::string& name) {
  for (const auto& t : algorithm_registry()) {
    if (t.name == name) return t;
    for (const auto& a : t.aliases)
      if (a == name) return t;
  }
  std::string known;
  for (const auto& t : algorithm_registry()) {
    known += (known.empty() ? "" : ", ") + t.name;
    for (const auto& a : t.aliases) known += " (or " + a + ")";
  }
  throw Error("unknown algorithm '" + name + "'; known: " + known);
}

nlohmann::json complete_algorithm_params(const AlgorithmTraits& traits,
                                         const nlohmann::json& given) {
  if (!given.is_null() && !given.is_object())
    throw Error("the parameters of algorithm '" + traits.name + "' must be a JSON object");
  nlohmann::json out = traits.params;
  std::string allowed;
  for (const auto& [k, v] : traits.params.items()) allowed += (allowed.empty() ? "" : ", ") + k;
  if (given.is_object())
    for (const auto& [k, v] : given.items()) {
      if (!traits.params.contains(k))
        throw Error("algorithm '" + traits.name + "' has no parameter '" + k +
                    "'; its parameters: " + (allowed.empty() ? "none" : allowed));
      if (!same_kind(traits.params[k], v))
        throw Error("algorithm '" + traits.name + "': parameter '" + k + "' must be a " +
                    traits.params[k].type_name() + ", got " + v.dump());
      out[k] = v;
    }
  return out;
}

std::unique_ptr<Algorithm> make_algorithm(const AlgorithmSetup& setup, const Problem& problem) {
  const AlgorithmTraits& traits = find_algorithm(setup.name);
  AlgorithmSetup complete = setup;
  complete.name = traits.name;
  complete.params = complete_algorithm_params(traits, setup.params);
  return traits.make(complete, problem);
}

}  // namespace hwnas
