// The latency-validation report of `hwnas validate --html`: one self-contained HTML file
// (inline SVG and CSS, no scripts, no network), like the run report (html_report.h).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hwnas {

/// One block kind's share of the error (predictors/latency_residuals.h, as plain data).
struct ReportKindResidual {
  std::string kind;
  double mean_share = 0;      ///< fraction of the prediction
  double relative_error = 0;  ///< 0.05 = the kind's rows predict 5 % high
};

struct ValidationReportData {
  std::string title;       ///< e.g. "elasticvit at 224 on device 'host'"
  nlohmann::json summary;  ///< validation_summary_json plus the command's fields, shown as is
  std::vector<double> measured_ms;   ///< per subnet, end to end
  std::vector<double> predicted_ms;  ///< per subnet, the plain sum (same length)
  /// Per subnet, the corrected prediction (ValidationSample::corrected_ms), or empty.
  std::vector<double> corrected_ms;
  /// Per subnet, the prediction the noisy-host rule judges, anchored to the space's reference
  /// (ValidationSample::anchored_ms), or empty.
  std::vector<double> anchored_ms;
  std::vector<ReportKindResidual> residuals;
};

/// Renders predicted against measured as a scatter plot with the y = x line and the +-5 % and
/// +-10 % bands (one colour per predictor given: plain, corrected, anchored), the residual by
/// block kind as a table with bars, and the summary. The result is HTML5 that is also
/// well-formed XML. Throws hwnas::Error if a given prediction series and the measured one
/// differ in length.
std::string render_validation_html(const ValidationReportData& data);

}  // namespace hwnas
