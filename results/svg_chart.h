// SvgChart: a small, dependency-free 2-D chart rendered to standalone SVG 1.1 (scatter points,
// polylines, staircase lines, reference lines, labelled markers). Used for Pareto-front plots
// and hypervolume curves in reports, which must open without network access.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace hwnas {

struct ChartPoint {
  double x = 0;
  double y = 0;
};

/// One data series. kind: scatter = circles; line = polyline in the given order;
/// step_min_max = Pareto staircase of a front that minimises x and maximises y (points are
/// sorted by x; from each point the line runs right to the next x, then up to its y).
struct ChartSeries {
  enum class Kind { scatter, line, step_min_max };
  std::string name;
  Kind kind = Kind::scatter;
  std::string color = "#1f77b4";  ///< CSS colour
  double radius = 3.0;            ///< circle radius in px (scatter) or stroke width (lines)
  double opacity = 1.0;
  std::vector<ChartPoint> points;
};

/// A labelled reference marker (e.g. a named model predicted on the same table).
struct ChartLabel {
  ChartPoint at;
  std::string text;
};

/// A vertical error bar at x from y = lo to y = hi (e.g. an accuracy's 95 % interval).
struct ChartErrorBar {
  double x = 0;
  double lo = 0;
  double hi = 0;
  std::string color = "#444444";  ///< CSS colour
};

/// A constraint or reference line across the whole plot.
struct ChartRule {
  bool vertical = true;  ///< vertical: x = value; otherwise y = value
  double value = 0;
  std::string text;
};

struct SvgChart {
  std::string title;
  std::string x_label;  ///< with unit, e.g. "latency (ms)"
  std::string y_label;
  int width_px = 720;
  int height_px = 480;
  std::vector<ChartSeries> series;
  std::vector<ChartLabel> labels;
  std::vector<ChartRule> rules;
  std::vector<ChartErrorBar> error_bars;             ///< drawn under the markers, with 3 px caps
  std::optional<double> x_min, x_max, y_min, y_max;  ///< axis bounds; default: data extent + 5 %
};

/// Renders the chart as a standalone, well-formed SVG document (XML declaration omitted, so
/// the result can also be inlined in HTML). Axis ticks use 1/2/5 x 10^k steps. Text is XML
/// escaped. Non-finite coordinates are skipped. An empty chart renders axes only.
std::string render_svg(const SvgChart& chart);

/// Escapes &, <, >, " and ' for XML/HTML text and attributes.
std::string xml_escape(const std::string& text);

}  // namespace hwnas
