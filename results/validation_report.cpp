#include "results/validation_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "results/svg_chart.h"

namespace hwnas {

std::string render_validation_html(const ValidationReportData& d) {
  // The plain sum always; the corrected and anchored predictions where the run has them.
  struct Predictor {
    const std::vector<double>& ms;
    const char* name;
    const char* color;
  };
  std::vector<Predictor> predictors{{d.predicted_ms, "plain sum", "#1f77b4"}};
  if (!d.corrected_ms.empty()) predictors.push_back({d.corrected_ms, "corrected", "#9467bd"});
  if (!d.anchored_ms.empty()) predictors.push_back({d.anchored_ms, "anchored", "#d62728"});
  double hi = 0;
  for (const Predictor& p : predictors) {
    if (p.ms.size() != d.measured_ms.size())
      throw Error(std::string("validation report: the ") + p.name +
                  " series and the measured one differ in length");
    for (std::size_t i = 0; i < p.ms.size(); ++i) hi = std::max({hi, d.measured_ms[i], p.ms[i]});
  }
  hi *= 1.05;
  SvgChart chart;
  chart.title = "Predicted against measured latency";
  chart.x_label = "measured end to end (ms)";
  chart.y_label = "predicted from the table's rows (ms)";
  chart.x_min = chart.y_min = 0.0;
  chart.x_max = chart.y_max = hi > 0 ? hi : 1.0;
  // Bands as lines through the origin: y = (1 +- b) x.
  auto band = [&](double factor, const std::string& name, const std::string& color) {
    ChartSeries s;
    s.name = name;
    s.kind = ChartSeries::Kind::line;
    s.color = color;
    s.radius = 1.0;
    // Both ends inside the plot (the chart skips points outside it).
    s.points = {{0.0, 0.0}, factor > 1 ? ChartPoint{hi / factor, hi} : ChartPoint{hi, factor * hi}};
    chart.series.push_back(s);
  };
  band(1.0, "predicted = measured", "#444444");
  band(1.05, "+5 %", "#2ca02c");
  band(0.95, "-5 %", "#2ca02c");
  band(1.10, "+10 %", "#ff7f0e");
  band(0.90, "-10 %", "#ff7f0e");
  for (const Predictor& p : predictors) {
    ChartSeries pts;
    pts.name = p.name;
    pts.color = p.color;
    pts.opacity = 0.7;
    for (std::size_t i = 0; i < d.measured_ms.size(); ++i)
      pts.points.push_back({d.measured_ms[i], p.ms[i]});
    chart.series.push_back(pts);
  }

  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
    << "<meta charset=\"utf-8\"/>\n<title>" << xml_escape(d.title) << "</title>\n"
    << "<style>body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}"
       "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;"
       "font-size:13px;text-align:left}th{background:#f4f4f4}.bar{height:10px;display:inline-block}"
       "</style>\n</head>\n<body>\n<h1>"
    << xml_escape(d.title) << "</h1>\n";
  o << "<h2>Predicted against measured</h2>\n";
  if (!d.anchored_ms.empty())
    o << "<p>Anchored: the prediction the noisy-host rule judges (corrected where the table has a "
         "correction), scaled in each group by the space's reference time over the table's own "
         "prediction of it.</p>\n";
  o << "<div id=\"scatter\">\n" << render_svg(chart) << "</div>\n";
  o << "<h2>Residual by block kind</h2>\n<p>How far each kind's rows are off inside networks "
       "(fitted over all subnets; +5 % = the kind's rows predict 5 % high), and its share of the "
       "prediction.</p>\n<table id=\"residuals\">\n<tr><th>kind</th><th>rows off by</th>"
       "<th>share</th><th></th></tr>\n";
  for (const auto& r : d.residuals) {
    char off[32], share[32];
    std::snprintf(off, sizeof off, "%+.1f %%", 100 * r.relative_error);
    std::snprintf(share, sizeof share, "%.1f %%", 100 * r.mean_share);
    // 2 px per percent, capped so that an extreme kind does not widen the page.
    const int width = static_cast<int>(std::min(200.0, std::fabs(200 * r.relative_error)));
    o << "<tr><td>" << xml_escape(r.kind) << "</td><td>" << off << "</td><td>" << share
      << "</td><td><span class=\"bar\" style=\"width:" << width
      << "px;background:" << (r.relative_error >= 0 ? "#d62728" : "#1f77b4")
      << "\"></span></td></tr>\n";
  }
  o << "</table>\n<h2>Summary</h2>\n<pre>" << xml_escape(d.summary.dump(2)) << "</pre>\n"
    << "</body>\n</html>\n";
  return o.str();
}

}  // namespace hwnas
