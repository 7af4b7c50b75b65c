#include "results/front_json.h"

#include "core/atomic_file.h"

#include <cstdio>
#include <fstream>

#include "core/error.h"

namespace hwnas {

nlohmann::json front_to_json(const Problem& problem, const SearchResult& result,
                             const RunInfo& info, const nlohmann::json& extra) {
  const SearchSpace& space = problem.space();
  nlohmann::json objectives = nlohmann::json::array();
  for (const auto& o : problem.objectives())
    objectives.push_back({{"name", o->name()},
                          {"sense", std::string(sense_name(o->sense()))},
                          {"unit", o->unit()},
                          {"source", o->source()}});
  nlohmann::json constraints = nlohmann::json::array();
  for (const auto& c : problem.constraints())
    constraints.push_back(
        {{"name", c.metric->name()}, {"max", c.max_value}, {"unit", c.metric->unit()}});
  nlohmann::json members = nlohmann::json::array();
  const auto names = problem.objective_names();
  for (std::size_t i : result.front) {
    const Evaluation& e = result.archive[i];
    nlohmann::json values = nlohmann::json::object();
    for (std::size_t k = 0; k < names.size(); ++k) values[names[k]] = e.objectives[k];
    for (std::size_t c = 0; c < problem.constraints().size(); ++c)
      if (!values.contains(problem.constraints()[c].metric->name()))
        values[problem.constraints()[c].metric->name()] = e.constraint_values[c];
    members.push_back(
        {{"arch", space.to_json(e.arch)}, {"objectives", values}, {"feasible", e.feasible()}});
  }
  nlohmann::json j = {
      {"space", space.name()},
      {"algorithm", info.algorithm},
      {"seed", info.seed},
      {"device", info.device},
      {"objectives", objectives},
      {"constraints", constraints},
      {"evaluations", result.archive.size()},
      {"generations", result.generations},
      {"hypervolume", result.hypervolume},
      {"hypervolume_reference",
       {{"lo", result.bounds.lo},
        {"hi", result.bounds.hi},
        {"point", kHypervolumeReference},
        {"note",
         "objectives as minimised (max ones negated), scaled to (f - lo) / (hi - lo); "
         "reference point 1.1 per objective"}}},
      {"stop_reason", result.stop_reason},
      {"members", members}};
  if (extra.is_object())
    for (const auto& [k, v] : extra.items()) j[k] = v;
  return j;
}

void write_json_atomic(const std::string& path, const nlohmann::json& j) {
  write_file_atomic(path, j.dump(2) + "\n");
}

}  // namespace hwnas
