#include "results/run_data.h"

#include <filesystem>

#include "core/error.h"
#include "core/json_util.h"

namespace hwnas {

std::vector<std::string> RunData::objective_names() const {
  std::vector<std::string> names;
  for (const auto& o : front.at("objectives")) names.push_back(o.at("name").get<std::string>());
  return names;
}

bool RunData::on_front(const StoredEvaluation& e) const {
  for (const auto& m : front.at("members"))
    if (m.at("arch") == e.arch) return true;
  return false;
}

namespace {

// Exports and reports read these fields with nlohmann's at()/get()/value(), which throw
// nlohmann exceptions (or cast floats unchecked) on a wrong type; a damaged or hand-edited run
// must give a one-line hwnas::Error instead, so the types are checked once, here.
void check_front_json(const nlohmann::json& front, const std::string& front_path) {
  const auto bad = [](const std::string& file, const std::string& what) {
    return Error("'" + file + "' is damaged: " + what +
                 "; re-run `hwnas search` or restore the file");
  };
  const auto optional = [](const nlohmann::json& j, const char* key, auto is_type) {
    return !j.contains(key) || is_type(j.at(key));
  };
  const auto is_string = [](const nlohmann::json& v) { return v.is_string(); };
  const auto is_number = [](const nlohmann::json& v) { return v.is_number(); };
  if (!front.at("space").is_string()) throw bad(front_path, "\"space\" is not a string");
  if (!front.at("objectives").is_array()) throw bad(front_path, "\"objectives\" is not an array");
  for (const auto& o : front.at("objectives"))
    if (!o.is_object() || !o.contains("name") || !o.at("name").is_string() ||
        !optional(o, "unit", is_string) || !optional(o, "sense", is_string))
      throw bad(front_path, "an objective is not {\"name\": string, \"unit\", \"sense\": strings}");
  if (!front.at("members").is_array()) throw bad(front_path, "\"members\" is not an array");
  for (const auto& m : front.at("members"))
    if (!m.is_object() || !m.contains("arch") || !m.contains("objectives") ||
        !m.at("objectives").is_object() ||
        !optional(m, "feasible", [](const nlohmann::json& v) { return v.is_boolean(); }))
      throw bad(front_path,
                "a member is not {\"arch\", \"objectives\": object, \"feasible\": bool}");
  // value(key, "") throws nlohmann's type_error when the stored value is not a string.
  if (!optional(front, "algorithm", is_string) || !optional(front, "device", is_string))
    throw bad(front_path, "\"algorithm\" or \"device\" is not a string");
  if (!optional(front, "hypervolume", is_number) ||
      !optional(front, "seed", [](const nlohmann::json& v) { return v.is_number_unsigned(); }))
    throw bad(front_path, "\"hypervolume\" or \"seed\" has the wrong type");
}

}  // namespace

RunData load_run(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir))
    throw Error("run directory '" + dir +
                "' does not exist: give the --out of an `hwnas search` run");
  RunData run;
  run.dir = dir;
  const RunStore store(dir + "/run.db", /*create=*/false);
  run.config = RunConfig::from_json(store.config().value_or(nlohmann::json::object()),
                                    "'" + dir + "/run.db'");
  run.evaluations = store.evaluations();
  run.generations = store.generations();
  const std::string front_path = dir + "/front.json";
  if (!fs::is_regular_file(front_path))
    throw Error("'" + front_path +
                "' is missing: the run did not finish; run `hwnas search --resume --out " + dir +
                "` first");
  run.front = read_json_file(front_path);
  if (!run.front.contains("objectives") || !run.front.contains("members") ||
      !run.front.contains("space"))
    throw Error("'" + front_path + "' is not an hwnas front (needs space, objectives, members)");
  check_front_json(run.front, front_path);
  return run;
}

}  // namespace hwnas
