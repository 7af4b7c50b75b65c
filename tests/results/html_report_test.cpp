#include "results/html_report.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <stb_image.h>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include "results/svg_chart.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

RunReport sample_report(bool with_points) {
  SvgChart c;
  c.title = "EfficientFormer front";
  c.x_label = "latency (ms)";
  c.y_label = "MACs";
  if (with_points) {
    ChartSeries all{"evaluated", ChartSeries::Kind::scatter, "#1f77b4", 4, 0.6, {}};
    for (int i = 0; i < 60; ++i) all.points.push_back({5.0 + i * 0.5, 1e9 + 3e7 * (i % 11)});
    ChartSeries front{"Pareto front",
                      ChartSeries::Kind::step_min_max,
                      "#ff7f0e",
                      3,
                      1,
                      {{5, 1.1e9}, {12, 1.25e9}, {30, 1.3e9}}};
    c.series = {all, front};
  }
  RunReport r;
  r.title = "hwnas run <test>";
  r.run_config = {{"space", "efficientformer"}, {"algorithm", "nsga2"}, {"seed", 1}};
  r.device = {{"name", "host"}, {"threads", 2}};
  r.notes = {"No accuracy source was used: objectives are latency and MACs."};
  r.front_svg = render_svg(c);
  r.objective_names = {"latency", "macs"};
  r.objective_units = {"ms", "MACs"};
  r.members = {
      {"m0", {{"space", "efficientformer"}}, {5.0, 1.1e9}, true, "m0.json", "m0.onnx", {"", ""}}};
  r.references = {{"l1", {{"space", "efficientformer"}}, {7.0, 1.3e9}, true, "", "", {"", "n=4"}}};
  return r;
}

TEST(HtmlReport, IsWellFormedAndSelfContained) {
  const std::string html = render_html_report(sample_report(true));
  std::istringstream in(html);
  boost::property_tree::ptree tree;
  EXPECT_NO_THROW(boost::property_tree::read_xml(in, tree));
  EXPECT_NE(html.find("hwnas run &lt;test&gt;"), std::string::npos);
  EXPECT_NE(html.find("href=\"m0.onnx\""), std::string::npos);
  EXPECT_NE(html.find("No accuracy source was used"), std::string::npos);
  EXPECT_NE(html.find("<table id=\"references\">"), std::string::npos);
  EXPECT_NE(html.find("<small>n=4</small>"), std::string::npos);
  // No network access needed: no external scripts, stylesheets or images.
  for (const char* external :
       {"src=\"http", "href=\"http", "url(http", "<script", "<link", "@import"})
    EXPECT_EQ(html.find(external), std::string::npos) << external;
}

// Renders the report in headless Chromium and measures the plot area of the screenshot.
struct PlotPixels {
  long non_white = 0;
  long front_colour = 0;
};

PlotPixels screenshot_plot(const RunReport& report, const std::string& name) {
  const std::string dir = test::make_temp_dir("hwnas-report");
  const std::string html = dir + "/" + name + ".html", png = dir + "/" + name + ".png";
  std::ofstream(html) << render_html_report(report);
  const std::string cmd =
      "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
      "--window-size=1000,900 --screenshot=" +
      png + " file://" + html + " >/dev/null 2>&1";
  const int rc = std::system(cmd.c_str());
  PlotPixels p;
  int w = 0, h = 0, ch = 0;
  unsigned char* img = stbi_load(png.c_str(), &w, &h, &ch, 3);
  if (rc != 0 || !img) {
    ADD_FAILURE() << "chromium screenshot failed (rc " << rc << "): " << cmd;
    return p;
  }
  // The front plot is the first figure: 720x480 below the title and note (about y 120..700).
  for (int y = 100; y < std::min(h, 720); ++y)
    for (int x = 20; x < std::min(w, 760); ++x) {
      const unsigned char* px = img + 3 * (y * w + x);
      if (px[0] < 235 || px[1] < 235 || px[2] < 235) ++p.non_white;
      if (std::abs(px[0] - 255) < 30 && std::abs(px[1] - 127) < 30 && std::abs(px[2] - 14) < 30)
        ++p.front_colour;
    }
  stbi_image_free(img);
  std::filesystem::remove_all(dir);
  return p;
}

TEST(HtmlReport, ChromiumScreenshotShowsThePlot) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh --ci installs it)";
  const PlotPixels with = screenshot_plot(sample_report(true), "with");
  const PlotPixels without = screenshot_plot(sample_report(false), "without");
  // The front's orange staircase and markers are drawn; the empty chart has none of that colour
  // and far fewer ink pixels.
  EXPECT_GT(with.front_colour, 300) << "front pixels";
  EXPECT_LT(without.front_colour, 20);
  EXPECT_GT(with.non_white, without.non_white + 2000);
}

}  // namespace
}  // namespace hwnas
