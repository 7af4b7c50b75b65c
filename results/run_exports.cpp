#include "results/run_exports.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace hwnas {
namespace {

double value_of(const nlohmann::json& values, const std::string& name) {
  const auto it = values.find(name);
  return it != values.end() && it->is_number() ? it->get<double>() : NAN;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string unit_of(const RunData& run, const std::string& name) {
  for (const auto& o : run.front.at("objectives"))
    if (o.at("name") == name) return o.value("unit", "");
  return "";
}

std::string sense_of(const RunData& run, const std::string& name) {
  for (const auto& o : run.front.at("objectives"))
    if (o.at("name") == name) return o.value("sense", "min");
  return "min";
}

// "[0.8421, 0.8622] n=5000", or "" without an interval.
std::string interval_text(const nlohmann::json& objectives, const nlohmann::json& samples,
                          const std::string& name) {
  const auto ci = objective_interval(objectives, samples, name);
  if (!ci) return "";
  char buf[80];
  std::snprintf(buf, sizeof buf, "[%.4f, %.4f] n=%zu", ci->lo, ci->hi,
                samples.at(name).get<std::size_t>());
  return buf;
}

// A named reference member of front.json as the plot and the report can use it: an object with
// a string name and objectives (a member the run could not score has a note instead).
bool usable_reference(const nlohmann::json& r) {
  return r.is_object() && r.contains("name") && r["name"].is_string() && r.contains("objectives") &&
         r["objectives"].is_object();
}

nlohmann::json member_samples(const nlohmann::json& m) {
  const auto it = m.find("samples");
  return it != m.end() && it->is_object() ? *it : nlohmann::json::object();
}

}  // namespace

std::optional<AccuracyInterval> objective_interval(const nlohmann::json& objectives,
                                                   const nlohmann::json& samples,
                                                   const std::string& name) {
  if (!samples.is_object() || !objectives.is_object()) return std::nullopt;
  const auto n = samples.find(name);
  if (n == samples.end() || !n->is_number_unsigned() || n->get<std::size_t>() == 0)
    return std::nullopt;
  const double v = value_of(objectives, name);
  if (!(v >= 0.0 && v <= 1.0)) return std::nullopt;
  return wilson_interval(v, n->get<std::size_t>());
}

std::vector<ExportMember> select_members(const RunData& run, const SearchSpace& space,
                                         const std::string& which) {
  const auto names = run.objective_names();
  std::vector<ExportMember> front;
  for (const auto& m : run.front.at("members"))
    front.push_back({"", space.from_json(m.at("arch")), m.at("objectives"),
                     m.value("feasible", true), true, member_samples(m)});
  const std::string first = names.empty() ? "" : names.front();
  std::stable_sort(front.begin(), front.end(), [&](const auto& a, const auto& b) {
    return value_of(a.objectives, first) < value_of(b.objectives, first);
  });
  for (std::size_t i = 0; i < front.size(); ++i) front[i].name = "m" + std::to_string(i);
  if (which == "front") return front;
  if (which == "all") {
    std::vector<ExportMember> all;
    for (const auto& e : run.evaluations)
      all.push_back({"e" + std::to_string(e.id), space.from_json(e.arch), e.objectives, e.feasible,
                     run.on_front(e), e.samples});
    return all;
  }
  std::size_t n = 0;
  const auto [ptr, ec] = std::from_chars(which.data(), which.data() + which.size(), n);
  if (ec != std::errc() || ptr != which.data() + which.size() || n == 0)
    throw Error("--members '" + which +
                "': use all, front, or a positive number N (the first N front members)");
  front.resize(std::min(n, front.size()));
  return front;
}

nlohmann::json export_members_json(const RunData& run, const SearchSpace& space,
                                   const std::vector<ExportMember>& members) {
  nlohmann::json out = {{"space", run.front.at("space")},
                        {"algorithm", run.front.value("algorithm", "")},
                        {"seed", run.front.value("seed", 0)},
                        {"device", run.front.value("device", "")},
                        {"table", run.config.db},
                        {"objectives", run.front.at("objectives")},
                        {"evaluations", run.evaluations.size()},
                        {"hypervolume", run.front.value("hypervolume", 0.0)},
                        {"members", nlohmann::json::array()}};
  for (const auto& m : members) {
    const Network net = space.decode(m.arch);
    nlohmann::json j = {{"name", m.name},
                        {"arch", space.to_json(m.arch)},
                        {"config", space.export_config(m.arch)},
                        {"params", net.params()},
                        {"macs", net.macs()},
                        {"objectives", m.objectives},
                        {"feasible", m.feasible},
                        {"on_front", m.on_front}};
    for (const auto& [name, n] : m.samples.items())
      if (const auto ci = objective_interval(m.objectives, m.samples, name)) {
        j["samples"][name] = n;
        j["intervals"][name] = {ci->lo, ci->hi};
      }
    out["members"].push_back(std::move(j));
  }
  if (run.front.contains("references")) out["references"] = run.front["references"];
  return out;
}

std::string evaluations_csv(const RunData& run, const SearchSpace& space) {
  const auto names = run.objective_names();
  std::vector<std::string> constraint_names;
  for (const auto& e : run.evaluations)
    for (const auto& [k, v] : e.constraints.items())
      if (std::find(constraint_names.begin(), constraint_names.end(), k) == constraint_names.end())
        constraint_names.push_back(k);
  std::vector<std::string> counted;  // objectives with an image count somewhere
  for (const auto& n : names)
    for (const auto& e : run.evaluations)
      if (e.samples.contains(n)) {
        counted.push_back(n);
        break;
      }
  // The column appears only in runs with a failure, so older exports keep their layout.
  const bool any_failed = std::any_of(run.evaluations.begin(), run.evaluations.end(),
                                      [](const StoredEvaluation& e) { return !e.failure.empty(); });
  std::ostringstream o;
  o.precision(10);
  o << "id,generation,on_front,feasible,violation";
  for (const auto& n : names) o << "," << csv_field(n);
  for (const auto& n : constraint_names) o << "," << csv_field("constraint:" + n);
  o << ",params,macs,arch";
  for (const auto& n : counted)
    o << "," << csv_field(n + ":samples") << "," << csv_field(n + ":ci_lo") << ","
      << csv_field(n + ":ci_hi");
  if (any_failed) o << ",failure";
  o << "\n";
  for (const auto& e : run.evaluations) {
    const Network net = space.decode(space.from_json(e.arch));
    o << e.id << "," << e.generation << "," << (run.on_front(e) ? 1 : 0) << ","
      << (e.feasible ? 1 : 0) << "," << e.violation;
    for (const auto& n : names) o << "," << value_of(e.objectives, n);
    for (const auto& n : constraint_names) o << "," << value_of(e.constraints, n);
    o << "," << net.params() << "," << net.macs() << "," << csv_field(e.arch.dump());
    for (const auto& n : counted) {
      if (const auto ci = objective_interval(e.objectives, e.samples, n))
        o << "," << e.samples[n].get<std::size_t>() << "," << ci->lo << "," << ci->hi;
      else
        o << ",,,";
    }
    if (any_failed) o << "," << csv_field(e.failure);
    o << "\n";
  }
  return o.str();
}

SvgChart front_chart(const RunData& run, const SearchSpace& space, const LatencyPredictor* table) {
  const auto names = run.objective_names();
  if (names.empty()) throw Error("front.json of '" + run.dir + "' lists no objectives");
  // Latency on x when the run has it: the reading every hardware-aware front is compared in.
  std::string x = names.front(), y = names.size() > 1 ? names[1] : names.front();
  if (y == "latency" || y == "latency-measured") std::swap(x, y);
  auto label = [&](const std::string& n) {
    const std::string u = unit_of(run, n);
    return u.empty() ? n : n + " (" + u + ")";
  };
  SvgChart c;
  c.title = run.front.value("space", "") + ": " + run.front.value("algorithm", "") + " front (" +
            std::to_string(run.evaluations.size()) + " evaluations)";
  c.x_label = label(x);
  c.y_label = label(y);
  ChartSeries all{"evaluated", ChartSeries::Kind::scatter, "#1f77b4", 2.5, 0.45, {}};
  ChartSeries infeasible{"infeasible", ChartSeries::Kind::scatter, "#aaaaaa", 2.5, 0.6, {}};
  for (const auto& e : run.evaluations)
    if (e.failure.empty())  // a failed evaluation has no values to place
      (e.feasible ? all : infeasible)
          .points.push_back({value_of(e.objectives, x), value_of(e.objectives, y)});
  // The staircase assumes x minimised and y maximised, the usual latency/accuracy reading.
  const bool staircase = sense_of(run, x) == "min" && sense_of(run, y) == "max";
  ChartSeries front{"Pareto front",
                    staircase ? ChartSeries::Kind::step_min_max : ChartSeries::Kind::scatter,
                    "#ff7f0e",
                    staircase ? 2.0 : 4.0,
                    1,
                    {}};
  // An accuracy's 95 % interval as an error bar at the point it belongs to.
  const auto add_bar = [&](const nlohmann::json& objectives, const nlohmann::json& samples,
                           const char* color) {
    if (const auto ci = objective_interval(objectives, samples, y))
      c.error_bars.push_back({value_of(objectives, x), ci->lo, ci->hi, color});
  };
  for (const auto& m : run.front.at("members")) {
    front.points.push_back({value_of(m.at("objectives"), x), value_of(m.at("objectives"), y)});
    add_bar(m.at("objectives"), member_samples(m), "#ff7f0e");
  }
  c.series = {all};
  if (!infeasible.points.empty()) c.series.push_back(infeasible);
  c.series.push_back(front);
  if (run.config.latency_max_ms > 0 && (x == "latency" || x == "latency-measured"))
    c.rules.push_back({true, run.config.latency_max_ms, "latency max"});
  // Named members, where both coordinates are computable from the table and the specs.
  auto coordinate = [&](const std::string& n, const Network& net) -> double {
    if (n == "macs") return static_cast<double>(net.macs());
    if (n == "params") return static_cast<double>(net.params());
    if (n == "latency" && table) return table->predict_ms(net);
    return NAN;
  };
  std::set<std::string> drawn;
  if (const auto refs = run.front.find("references"); refs != run.front.end() && refs->is_array())
    for (const auto& r : *refs) {
      if (!usable_reference(r)) continue;
      const ChartPoint p{value_of(r["objectives"], x), value_of(r["objectives"], y)};
      if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
      c.labels.push_back({p, r["name"].get<std::string>()});
      add_bar(r["objectives"], member_samples(r), "#2ca02c");
      drawn.insert(r["name"].get<std::string>());
    }
  for (const auto& [member, arch] : space.named()) {
    if (drawn.count(member)) continue;
    try {
      const Network net = space.decode(arch);
      const ChartPoint p{coordinate(x, net), coordinate(y, net)};
      if (std::isfinite(p.x) && std::isfinite(p.y)) c.labels.push_back({p, member});
    } catch (const Error&) {
      // A member outside the run's table (e.g. another resolution) is simply not drawn.
    }
  }
  return c;
}

SvgChart hypervolume_chart(const RunData& run) {
  SvgChart c;
  c.title = "hypervolume per generation";
  c.x_label = "generation";
  c.y_label = "hypervolume (normalised)";
  c.width_px = 720;
  c.height_px = 300;
  ChartSeries hv{"", ChartSeries::Kind::line, "#2ca02c", 2, 1, {}};
  for (const auto& g : run.generations) hv.points.push_back({double(g.generation), g.hypervolume});
  c.series = {hv};
  return c;
}

RunReport run_report(const RunData& run, const SearchSpace& space, const nlohmann::json& device,
                     const std::string& front_svg) {
  namespace fs = std::filesystem;
  RunReport r;
  r.title =
      "hwnas search: " + run.front.value("space", "") + ", " + run.front.value("algorithm", "");
  r.run_config = run.config.to_json();
  r.device = device;
  if (run.front.contains("note") && run.front["note"].is_string())
    r.notes.push_back(run.front["note"]);
  if (run.front.contains("accuracy_source") && run.front["accuracy_source"].is_string())
    r.notes.push_back("Accuracy source: " + run.front["accuracy_source"].get<std::string>());
  r.front_svg = front_svg;
  if (!run.generations.empty()) r.hypervolume_svg = render_svg(hypervolume_chart(run));
  for (const auto& o : run.front.at("objectives")) {
    r.objective_names.push_back(o.at("name"));
    r.objective_units.push_back(o.value("unit", ""));
  }
  for (const auto& m : select_members(run, space, "front")) {
    ReportMember rm{m.name, space.to_json(m.arch), {}, m.feasible, "", "", {}};
    for (const auto& n : r.objective_names) {
      rm.objectives.push_back(value_of(m.objectives, n));
      rm.intervals.push_back(interval_text(m.objectives, m.samples, n));
    }
    if (fs::exists(run.dir + "/members/" + m.name + ".json"))
      rm.json_href = "members/" + m.name + ".json";
    if (fs::exists(run.dir + "/onnx/" + m.name + ".onnx"))
      rm.onnx_href = "onnx/" + m.name + ".onnx";
    r.members.push_back(std::move(rm));
  }
  if (const auto refs = run.front.find("references"); refs != run.front.end() && refs->is_array())
    for (const auto& ref : *refs) {
      if (!usable_reference(ref)) continue;  // e.g. a member the run could not score
      const auto feasible = ref.find("feasible");
      ReportMember rm{ref["name"].get<std::string>(),
                      ref.contains("arch") ? ref["arch"] : nlohmann::json(),
                      {},
                      feasible == ref.end() || !feasible->is_boolean() || feasible->get<bool>(),
                      "",
                      "",
                      {}};
      for (const auto& n : r.objective_names) {
        rm.objectives.push_back(value_of(ref["objectives"], n));
        rm.intervals.push_back(interval_text(ref["objectives"], member_samples(ref), n));
      }
      r.references.push_back(std::move(rm));
    }
  return r;
}

void write_default_report(const RunData& run, const SearchSpace& space,
                          const LatencyPredictor* table, const nlohmann::json& device) {
  std::filesystem::create_directories(run.dir + "/members");
  const auto members = select_members(run, space, "front");
  const nlohmann::json all = export_members_json(run, space, members);
  for (std::size_t i = 0; i < members.size(); ++i)
    write_file_atomic(run.dir + "/members/" + members[i].name + ".json",
                      all["members"][i].dump(2) + "\n");
  const std::string svg = render_svg(front_chart(run, space, table));
  write_file_atomic(run.dir + "/report.html",
                    render_html_report(run_report(run, space, device, svg)));
}

}  // namespace hwnas
