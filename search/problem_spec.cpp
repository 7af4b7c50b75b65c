#include "search/problem_spec.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "core/error.h"
#include "search/measured_latency_objective.h"

namespace hwnas {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string known_names() {
  std::string known;
  for (const auto& n : objective_names()) known += (known.empty() ? "" : ", ") + n;
  return known;
}

}  // namespace

const std::vector<std::string>& objective_names() {
  static const std::vector<std::string> names = {"latency", "latency-measured", "macs", "params",
                                                 "accuracy"};
  return names;
}

std::vector<ObjectiveSpec> parse_objective_list(const std::string& list) {
  std::vector<ObjectiveSpec> out;
  for (const auto& item : split(list, ',')) {
    const auto parts = split(item, ':');
    if (parts.empty() || parts.size() > 2)
      throw Error("objective '" + item + "' is not NAME or NAME:min|max");
    ObjectiveSpec spec{parts[0], std::nullopt};
    const auto& names = objective_names();
    if (std::find(names.begin(), names.end(), spec.name) == names.end())
      throw Error("unknown objective '" + spec.name + "'; known: " + known_names());
    if (parts.size() == 2) spec.sense = sense_from_name(parts[1]);
    out.push_back(spec);
  }
  if (out.empty()) throw Error("the objective list '" + list + "' names no objective");
  return out;
}

Problem make_problem(const SearchSpace& space, const std::string& list,
                     const ConstraintLimits& limits, const MetricSources& sources) {
  if (limits.latency_max_ms < 0 || limits.macs_max < 0 || limits.params_max < 0)
    throw Error("--latency-max, --macs-max and --params-max must be > 0");
  std::map<std::string, std::shared_ptr<Objective>> made;
  auto metric = [&](const std::string& name, Sense macs_sense) -> std::shared_ptr<Objective> {
    if (const auto it = made.find(name); it != made.end()) return it->second;
    std::shared_ptr<Objective> o;
    if (name == "latency")
      o = std::make_shared<LatencyObjective>(space, sources.latency_table());
    else if (name == "latency-measured")
      o = std::make_shared<MeasuredLatencyObjective>(space, sources.measure);
    else if (name == "macs")
      o = std::make_shared<MacsObjective>(space, macs_sense);
    else if (name == "params")
      o = std::make_shared<ParamsObjective>(space);
    else if (name == "accuracy")
      o = std::make_shared<AccuracyObjective>(sources.accuracy());
    else
      throw Error("unknown objective '" + name + "'; known: " + known_names());
    return made[name] = o;
  };
  std::vector<std::shared_ptr<Objective>> objectives;
  for (const auto& spec : parse_objective_list(list)) {
    auto o = metric(spec.name, spec.sense.value_or(Sense::maximize));
    if (spec.sense && *spec.sense != o->sense())
      throw Error("objective '" + spec.name + "' can only be " +
                  std::string(sense_name(o->sense())) + "imised");
    objectives.push_back(o);
  }
  auto uses = [&](const char* name) {
    return std::any_of(objectives.begin(), objectives.end(),
                       [&](const auto& o) { return o->name() == name; });
  };
  std::vector<Constraint> constraints;
  if (limits.latency_max_ms > 0) {
    const bool measured = uses("latency-measured") && !uses("latency");
    constraints.push_back({metric(measured ? "latency-measured" : "latency", Sense::maximize),
                           limits.latency_max_ms});
  }
  if (limits.macs_max > 0)
    constraints.push_back({metric("macs", Sense::minimize), limits.macs_max});
  if (limits.params_max > 0)
    constraints.push_back({metric("params", Sense::minimize), limits.params_max});
  return Problem(space, objectives, constraints);
}

}  // namespace hwnas
