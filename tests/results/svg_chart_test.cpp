#include "results/svg_chart.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

namespace hwnas {
namespace {

namespace pt = boost::property_tree;

pt::ptree parse_xml(const std::string& text) {
  std::istringstream in(text);
  pt::ptree tree;
  pt::read_xml(in, tree);  // throws on malformed XML
  return tree;
}

// Counts elements named `name` anywhere under `tree`.
int count_elements(const pt::ptree& tree, const std::string& name) {
  int n = 0;
  for (const auto& [key, child] : tree) n += (key == name) + count_elements(child, name);
  return n;
}

SvgChart front_chart() {
  SvgChart c;
  c.title = "front <&> \"test\"";
  c.x_label = "latency (ms)";
  c.y_label = "top-1";
  ChartSeries all{"evaluated", ChartSeries::Kind::scatter, "#1f77b4", 3, 0.5, {}};
  for (int i = 0; i < 37; ++i) all.points.push_back({1.0 + i * 0.3, 0.5 + 0.01 * (i % 7)});
  ChartSeries front{"Pareto front",
                    ChartSeries::Kind::step_min_max,
                    "#ff7f0e",
                    2,
                    1,
                    {{3, 0.6}, {1, 0.5}, {7, 0.7}}};
  c.series = {all, front};
  c.rules = {{true, 8.0, "latency <= 8 ms"}};
  c.labels = {{{5.0, 0.65}, "l1"}};
  return c;
}

TEST(SvgChart, IsWellFormedXmlWithEveryPoint) {
  const std::string svg = render_svg(front_chart());
  const auto tree = parse_xml(svg);
  // 37 scatter circles + 3 front markers.
  EXPECT_EQ(count_elements(tree, "circle"), 40);
  EXPECT_NE(svg.find("front &lt;&amp;&gt; &quot;test&quot;"), std::string::npos);
  EXPECT_NE(svg.find("latency &lt;= 8 ms"), std::string::npos);
  EXPECT_NE(svg.find(">l1<"), std::string::npos);
}

TEST(SvgChart, StepLineRunsRightThenUpInXOrder) {
  SvgChart c;
  c.x_min = 0, c.x_max = 10, c.y_min = 0, c.y_max = 10;
  c.width_px = 180, c.height_px = 196;  // plot area 80..160 x 40..140: 8 px and 10 px per unit
  c.series = {{"f", ChartSeries::Kind::step_min_max, "#000", 1, 1, {{5, 5}, {1, 2}}}};
  const std::string svg = render_svg(c);
  // Sorted by x: (1,2) -> right to x=5 -> up to y=5. x: 80 + 8x; y: 140 - 10y.
  EXPECT_NE(svg.find("d=\"M88.00 120.00 H120.00 V90.00\""), std::string::npos) << svg;
}

TEST(SvgChart, ErrorBarsSpanTheirIntervalWithCaps) {
  SvgChart c;
  c.x_min = 0, c.x_max = 10, c.y_min = 0, c.y_max = 10;
  c.width_px = 180, c.height_px = 196;  // as above: x 80 + 8x, y 140 - 10y
  c.error_bars = {{5, 2, 7, "#123456"}, {NAN, 1, 2, "#000"}};
  const std::string svg = render_svg(c);
  EXPECT_NE(svg.find("d=\"M120.00 120.00 V70.00 M117.00 120.00 H123.00 M117.00 70.00 H123.00\""),
            std::string::npos)
      << svg;
  EXPECT_EQ(count_elements(parse_xml(svg), "path"), 1);  // the NaN bar is skipped
  // Without fixed bounds the axes take in the bars' ends.
  SvgChart d;
  d.series = {{"p", ChartSeries::Kind::scatter, "#000", 1, 1, {{1, 0.5}, {2, 0.6}}}};
  d.error_bars = {{1, 0.1, 0.9, "#000"}};
  const std::string wide = render_svg(d);
  EXPECT_NE(wide.find(">0.2<"), std::string::npos) << wide;  // points alone span 0.5..0.6
  EXPECT_NE(wide.find(">0.8<"), std::string::npos) << wide;
}

TEST(SvgChart, SkipsNonFinitePointsAndHandlesEmptyCharts) {
  SvgChart c;
  c.series = {{"s", ChartSeries::Kind::scatter, "#000", 2, 1, {{1, 1}, {NAN, 2}, {3, INFINITY}}}};
  EXPECT_EQ(count_elements(parse_xml(render_svg(c)), "circle"), 1);
  EXPECT_NO_THROW(parse_xml(render_svg(SvgChart{})));
}

}  // namespace
}  // namespace hwnas
