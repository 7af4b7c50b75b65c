// The run report: one self-contained HTML file (inline SVG, inline CSS, no scripts, no network).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hwnas {

/// One Pareto-front member as the report lists it.
struct ReportMember {
  std::string name;                ///< e.g. "m03" or a named member ("l1")
  nlohmann::json arch;             ///< the space's arch JSON
  std::vector<double> objectives;  ///< in RunReport::objective_names order
  bool feasible = true;
  std::string json_href;  ///< relative link to the member's JSON ("" = none)
  std::string onnx_href;  ///< relative link to the member's ONNX model ("" = none)
  /// Per objective, its 95 % interval as text ("[0.8421, 0.8622] n=5000"), "" where none.
  std::vector<std::string> intervals;
};

struct RunReport {
  std::string title;
  nlohmann::json run_config;                 ///< space, algorithm, seed, budget, constraints, ...
  nlohmann::json device;                     ///< the DeviceProfile the latencies come from
  std::vector<std::string> notes;            ///< plain statements (e.g. the accuracy source)
  std::string front_svg;                     ///< from render_svg
  std::string hypervolume_svg;               ///< hypervolume per generation (may be empty)
  std::vector<std::string> objective_names;  ///< e.g. {"latency", "accuracy"}
  std::vector<std::string> objective_units;  ///< e.g. {"ms", "top-1"}
  std::vector<ReportMember> members;
  /// The space's named members scored as the front was (front.json "references"), for
  /// comparison; listed in their own table.
  std::vector<ReportMember> references;
};

/// Renders the report as one HTML5 document that is also well-formed XML (XHTML syntax), so it
/// parses with an XML parser and opens in a browser without network access. Text is escaped.
std::string render_html_report(const RunReport& report);

}  // namespace hwnas
