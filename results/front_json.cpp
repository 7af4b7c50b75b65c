#include "results/front_json.h"

#include "core/atomic_file.h"

#include <cstdio>
#include <fstream>

#include "core/error.h"
#include "predictors/accuracy_interval.h"

namespace hwnas {

nlohmann::json evaluation_json(const Problem& problem, const Evaluation& e) {
  const auto names = problem.objective_names();
  nlohmann::json values = nlohmann::json::object();
  for (std::size_t k = 0; k < names.size(); ++k) values[names[k]] = e.objectives[k];
  for (std::size_t c = 0; c < problem.constraints().size(); ++c)
    if (!values.contains(problem.constraints()[c].metric->name()))
      values[problem.constraints()[c].metric->name()] = e.constraint_values[c];
  nlohmann::json j = {{"arch", problem.space().to_json(e.arch)},
                      {"objectives", values},
                      {"feasible", e.feasible()}};
  for (std::size_t k = 0; k < e.samples.size() && k < names.size(); ++k) {
    if (e.samples[k] == 0 || !(e.objectives[k] >= 0.0 && e.objectives[k] <= 1.0)) continue;
    const AccuracyInterval ci = wilson_interval(e.objectives[k], e.samples[k]);
    j["samples"][names[k]] = e.samples[k];
    j["intervals"][names[k]] = {ci.lo, ci.hi};
  }
  return j;
}

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
  for (std::size_t i : result.front) members.push_back(evaluation_json(problem, result.archive[i]));
  nlohmann::json j = {
      {"space", space.name()},
      {"algorithm", info.algorithm},
      {"seed", info.seed},
      {"device", info.device},
      {"objectives", objectives},
      {"constraints", constraints},
      {"evaluations", result.archive.size()},
      {"failed_evaluations", result.failed},
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
      {"interval",
       {{"level", 0.95},
        {"method",
         "Wilson score interval of each proportion (accuracy) over its held-out "
         "images; members list the image counts under samples"}}},
      {"members", members}};
  if (extra.is_object())
    for (const auto& [k, v] : extra.items()) j[k] = v;
  return j;
}

void write_json_atomic(const std::string& path, const nlohmann::json& j) {
  write_file_atomic(path, j.dump(2) + "\n");
}

}  // namespace hwnas
