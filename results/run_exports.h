// What `hwnas export` (and the end of every `hwnas search`) produces from a run: the front as
// JSON with decoded configs, every evaluation as CSV, the front plot and the HTML report.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "predictors/accuracy_interval.h"
#include "predictors/latency_predictor.h"
#include "results/html_report.h"
#include "results/run_data.h"
#include "results/svg_chart.h"
#include "spaces/search_space.h"

namespace hwnas {

/// A member as exports list it: the arch and its objective values (natural units).
struct ExportMember {
  std::string name;  ///< "m0", "m1", ... in front order (ascending first objective)
  Arch arch;
  nlohmann::json objectives;  ///< {name: value}
  bool feasible = true;
  bool on_front = false;
  nlohmann::json samples = nlohmann::json::object();  ///< {objective: held-out images}
};

/// The 95 % Wilson interval of objective `name` when `samples` holds its image count and its
/// value is a proportion, else nullopt (latency, or an accuracy without a count).
std::optional<AccuracyInterval> objective_interval(const nlohmann::json& objectives,
                                                   const nlohmann::json& samples,
                                                   const std::string& name);

/// The members to export: "front" (every front member), "all" (every evaluation), or a number N
/// (the first N front members by the first objective). Throws hwnas::Error on anything else or
/// on an arch the space rejects (a run made by another version of the space).
std::vector<ExportMember> select_members(const RunData& run, const SearchSpace& space,
                                         const std::string& which);

/// {"space", "algorithm", "seed", "device", "table", "objectives", "evaluations",
///  "hypervolume", "members": [{"name", "arch", "config" (SearchSpace::export_config, e.g. timm's
///  EfficientFormer keyword arguments), "params", "macs", "objectives", "feasible", "on_front",
///  and for accuracies "samples": {name: n}, "intervals": {name: [lo, hi]} (95 % Wilson)}],
///  "references": front.json's named members, when the run scored them}.
nlohmann::json export_members_json(const RunData& run, const SearchSpace& space,
                                   const std::vector<ExportMember>& members);

/// One CSV row per evaluation (RFC 4180): id, generation, on_front, feasible, violation, each
/// objective, each constraint metric, params, macs, the arch JSON (quoted), and for each objective
/// some evaluation holds an image count of (accuracy): "<name>:samples", "<name>:ci_lo",
/// "<name>:ci_hi" (95 % Wilson; empty where that evaluation has no count).
std::string evaluations_csv(const RunData& run, const SearchSpace& space);

/// The front plot: the run's second objective against its first (latency when present): every
/// evaluation, the front as a staircase, constraint lines, and the space's named members
/// labelled: from front.json's "references" (scored as the front was, with their intervals)
/// where the run has them, else where both coordinates can be computed (`table` predicts their
/// latency on the run's own table; null = no reference points for latency). Accuracies with an
/// image count get their 95 % interval as an error bar.
SvgChart front_chart(const RunData& run, const SearchSpace& space, const LatencyPredictor* table);

/// Hypervolume per generation as a line chart.
SvgChart hypervolume_chart(const RunData& run);

/// The report of a run: settings, `device` (the profile the latencies come from), notes (the
/// accuracy source, or that none was used), the front plot, hypervolume per generation and the
/// front table with links (`members/<name>.json`, `onnx/<name>.onnx`, shown when the files exist
/// in the run directory) and intervals, and the named reference members.
RunReport run_report(const RunData& run, const SearchSpace& space, const nlohmann::json& device,
                     const std::string& front_svg);

/// Writes DIR/report.html and DIR/members/<name>.json for the front (what `hwnas search` leaves
/// by default). Throws hwnas::Error on an unwritable directory; files are written atomically.
void write_default_report(const RunData& run, const SearchSpace& space,
                          const LatencyPredictor* table, const nlohmann::json& device);

}  // namespace hwnas
