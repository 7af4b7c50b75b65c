#include "search/slimming.h"

#include <limits>
#include <map>

#include "core/error.h"

namespace hwnas {
namespace {

int dim_index(const SearchSpace& space, const std::string& name) {
  const auto& dims = space.dims();
  for (std::size_t d = 0; d < dims.size(); ++d)
    if (dims[d].name == name) return static_cast<int>(d);
  return -1;
}

nlohmann::json genes_json(const Arch& a) { return a.genes; }

}  // namespace

Slimming::Slimming(const SearchSpace& space, const Problem& problem, SlimmingParams params)
    : space_(space), params_(std::move(params)) {
  const auto senses = problem.senses();
  const auto& objectives = problem.objectives();
  if (params_.latency_objective < 0)
    for (std::size_t k = 0; k < objectives.size(); ++k)
      if (objectives[k]->unit() == "ms" && senses[k] == Sense::minimize) {
        params_.latency_objective = static_cast<int>(k);
        break;
      }
  if (params_.latency_objective < 0)
    throw Error("slimming needs a latency objective: use --objectives latency,accuracy");
  if (params_.quality_objective < 0)
    for (std::size_t k = 0; k < objectives.size(); ++k)
      if (static_cast<int>(k) != params_.latency_objective && senses[k] == Sense::maximize) {
        params_.quality_objective = static_cast<int>(k);
        break;
      }
  if (params_.quality_objective < 0)
    throw Error(
        "slimming needs a maximised objective that stands for accuracy: use "
        "--objectives latency,accuracy --accuracy SOURCE");
  if (!(params_.latency_max_ms > 0))
    throw Error("slimming needs a latency target: give --latency-max MS");
  current_ = params_.start.genes.empty() ? space_.largest() : params_.start;
  space_.validate(current_);
}

std::vector<Slimming::Candidate> Slimming::candidates(const Arch& arch) const {
  const auto& dims = space_.dims();
  std::vector<Candidate> out;
  auto shrunk = [&](std::size_t d) -> int {  // previous option, or -1
    const int i = space_.option_index(d, arch.genes[d]);
    return i > 0 ? dims[d].options[static_cast<std::size_t>(i - 1)] : -1;
  };
  const int vit = dim_index(space_, "num_vit");
  int last_depth = -1;
  for (std::size_t d = 0; d < dims.size(); ++d)
    if (dims[d].name.rfind("depth", 0) == 0) last_depth = static_cast<int>(d);
  if (vit < 0 || last_depth < 0) {
    for (std::size_t d = 0; d < dims.size(); ++d) {
      const int v = shrunk(d);
      if (v < 0) continue;
      Arch a = arch;
      a.genes[d] = v;
      // The space's joint constraints (e.g. TurboViT's head dim dividing the width) may need
      // other genes to follow; an action that repair undoes is no action.
      space_.repair(a);
      if (a == arch) continue;
      out.push_back({dims[d].name, "shrink " + dims[d].name + " to " + std::to_string(v), a});
    }
    return out;
  }
  for (std::size_t d = 0; d < dims.size(); ++d) {
    const std::string& n = dims[d].name;
    const bool depth = n.rfind("depth", 0) == 0, width = n.rfind("width", 0) == 0;
    if (!depth && !width) continue;
    const int v = shrunk(d);
    if (v < 0) continue;
    if (depth && static_cast<int>(d) == last_depth && v < arch.genes[static_cast<std::size_t>(vit)])
      continue;  // the slot would be an MB3D: that is action (b)
    Arch a = arch;
    a.genes[d] = v;
    const std::string stage = n.substr(5);
    if (depth)
      out.push_back({"depth", "depth" + stage + "-1", a});
    else
      out.push_back({"width", "width" + stage + "-" + std::to_string(arch.genes[d] - v), a});
  }
  const int v = shrunk(static_cast<std::size_t>(vit));
  if (v >= 0) {
    Arch a = arch;
    a.genes[static_cast<std::size_t>(vit)] = v;
    out.push_back({"mb3d", "mb3d-1", a});
  }
  return out;
}

std::size_t Slimming::batch_size() const { return candidates(current_).size() + 1; }

std::vector<Arch> Slimming::ask(std::size_t max_n, const ArchQuery&) {
  if (finished_) return {};
  std::vector<Arch> out{current_};
  for (auto& c : candidates(current_)) out.push_back(std::move(c.arch));
  if (out.size() > max_n) {
    stop_reason_ = "evaluation budget too small for the next slimming step";
    return {};
  }
  return out;
}

void Slimming::tell(const std::vector<Evaluation>& evaluations) {
  if (evaluations.empty()) return;
  const auto lat = static_cast<std::size_t>(params_.latency_objective);
  const auto qual = static_cast<std::size_t>(params_.quality_objective);
  const Evaluation& cur = evaluations.front();
  if (cur.arch != current_) throw Error("slimming: evaluations do not match the last ask");
  const double l0 = cur.objectives[lat], q0 = cur.objectives[qual];
  if (trajectory_.empty()) trajectory_.push_back({"start", current_, l0, q0, 0.0, 0.0});
  if (l0 <= params_.latency_max_ms) {
    finished_ = true;
    stop_reason_ = "latency target met";
    return;
  }
  const auto cands = candidates(current_);
  if (cands.size() + 1 != evaluations.size())
    throw Error("slimming: evaluations do not match the last ask");
  // Within a type, the least important candidate is the one with the smallest quality drop
  // (ties: the larger saving, then the first). Types keep the order in which they appear.
  std::vector<std::string> type_order;
  std::map<std::string, std::size_t> pick;
  for (std::size_t i = 0; i < cands.size(); ++i) {
    const Evaluation& e = evaluations[i + 1];
    auto it = pick.find(cands[i].type);
    if (it == pick.end()) {
      type_order.push_back(cands[i].type);
      pick[cands[i].type] = i;
      continue;
    }
    const Evaluation& b = evaluations[it->second + 1];
    const double drop = q0 - e.objectives[qual], best_drop = q0 - b.objectives[qual];
    if (drop < best_drop || (drop == best_drop && e.objectives[lat] < b.objectives[lat]))
      it->second = i;
  }
  double best_score = std::numeric_limits<double>::infinity();
  int chosen = -1;
  for (const auto& type : type_order) {
    const std::size_t i = pick[type];
    const Evaluation& e = evaluations[i + 1];
    const double saved = l0 - e.objectives[lat];
    if (!(saved > 0)) continue;
    const double score = (q0 - e.objectives[qual]) / saved;
    if (score < best_score) {
      best_score = score;
      chosen = static_cast<int>(i);
    }
  }
  if (chosen < 0) {
    finished_ = true;
    stop_reason_ = "no action reduces latency further";
    return;
  }
  const Evaluation& e = evaluations[static_cast<std::size_t>(chosen) + 1];
  current_ = e.arch;
  trajectory_.push_back({cands[static_cast<std::size_t>(chosen)].action, current_,
                         e.objectives[lat], e.objectives[qual], q0 - e.objectives[qual],
                         l0 - e.objectives[lat]});
  if (e.objectives[lat] <= params_.latency_max_ms) {
    finished_ = true;
    stop_reason_ = "latency target met";
  }
}

nlohmann::json Slimming::save_state() const {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : trajectory_)
    steps.push_back({{"action", s.action},
                     {"genes", genes_json(s.arch)},
                     {"latency_ms", s.latency_ms},
                     {"quality", s.quality},
                     {"drop", s.drop},
                     {"saved_ms", s.saved_ms}});
  return {{"algorithm", name()},
          {"current", genes_json(current_)},
          {"trajectory", steps},
          {"finished", finished_},
          {"stop_reason", stop_reason_}};
}

void Slimming::load_state(const nlohmann::json& state) {
  if (state.value("algorithm", "") != name())
    throw Error("checkpoint holds the state of '" + state.value("algorithm", std::string("?")) +
                "', not of slimming");
  current_ = Arch{space_.name(), state.at("current").get<std::vector<int>>()};
  trajectory_.clear();
  for (const auto& s : state.at("trajectory"))
    trajectory_.push_back({s.at("action").get<std::string>(),
                           Arch{space_.name(), s.at("genes").get<std::vector<int>>()},
                           s.at("latency_ms").get<double>(), s.at("quality").get<double>(),
                           s.at("drop").get<double>(), s.at("saved_ms").get<double>()});
  finished_ = state.at("finished").get<bool>();
  stop_reason_ = state.at("stop_reason").get<std::string>();
}

nlohmann::json Slimming::result() const {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : trajectory_)
    steps.push_back({{"action", s.action},
                     {"arch", space_.to_json(s.arch)},
                     {"latency_ms", s.latency_ms},
                     {"quality", s.quality},
                     {"quality_drop", s.drop},
                     {"latency_saved_ms", s.saved_ms}});
  return {{"trajectory", steps},
          {"stop_reason", stop_reason_},
          {"latency_target_ms", params_.latency_max_ms}};
}

}  // namespace hwnas
