#include "results/run_data.h"

#include <filesystem>

#include "spaces/error.h"
#include "spaces/json_util.h"

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

RunData load_run(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir))
    throw Error("run directory '" + dir + "' does not exist: give the --out of an `hwnas search` run");
  RunData run;
  run.dir = dir;
  const RunStore store(dir + "/run.db", /*create=*/false);
  run.config = store.config().value_or(nlohmann::json::object());
  run.evaluations = store.evaluations();
  run.generations = store.generations();
  const std::string front_path = dir + "/front.json";
  if (!fs::is_regular_file(front_path))
    throw Error("'" + front_path + "' is missing: the run did not finish; run `hwnas search --resume --out " +
                dir + "` first");
  run.front = read_json_file(front_path);
  if (!run.front.contains("objectives") || !run.front.contains("members") || !run.front.contains("space"))
    throw Error("'" + front_path + "' is not an hwnas front (needs space, objectives, members)");
  return run;
}

}  // namespace hwnas
