#include "results/validation_report.h"

#include <gtest/gtest.h>

#include <sstream>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include "core/error.h"

namespace hwnas {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(ValidationReport, ScatterBandsAndResidualsInWellFormedHtml) {
  ValidationReportData d;
  d.title = "elasticvit <224>";
  d.summary = {{"rmspe", 0.031}, {"regime", "quiet"}};
  for (int i = 0; i < 17; ++i) {
    d.measured_ms.push_back(10.0 + i);
    d.predicted_ms.push_back((10.0 + i) * (i % 2 ? 1.03 : 0.96));
  }
  d.residuals = {{"evit_mbconv", 0.33, -0.074}, {"evit_attention", 0.48, 0.059}};
  const std::string html = render_validation_html(d);
  std::istringstream in(html);
  boost::property_tree::ptree tree;
  EXPECT_NO_THROW(boost::property_tree::read_xml(in, tree));
  EXPECT_EQ(count(html, "<circle"), 17u);  // one point per subnet
  // y = x and the four band edges, each a line from the origin to the plot's edge.
  EXPECT_EQ(count(html, "<path class=\"series\""), 5u);
  EXPECT_EQ(count(html, "d=\"M"), 5u);
  EXPECT_EQ(count(html, " L"), 5u);
  EXPECT_NE(html.find("elasticvit &lt;224&gt;"), std::string::npos);
  EXPECT_NE(html.find("<td>evit_mbconv</td><td>-7.4 %</td><td>33.0 %</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>evit_attention</td><td>+5.9 %</td><td>48.0 %</td>"), std::string::npos);
  EXPECT_NE(html.find("&quot;regime&quot;: &quot;quiet&quot;"), std::string::npos);
  for (const char* external : {"src=\"http", "href=\"http", "<script", "<link", "@import"})
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  d.predicted_ms.pop_back();
  EXPECT_THROW(render_validation_html(d), Error);
}

TEST(ValidationReport, CorrectedAndAnchoredPredictionsGetTheirOwnSeries) {
  ValidationReportData d;
  d.title = "turbovit-fmnist at 64";
  for (int i = 0; i < 9; ++i) {
    d.measured_ms.push_back(1.0 + 0.1 * i);
    d.predicted_ms.push_back(0.9 * (1.0 + 0.1 * i));
    d.corrected_ms.push_back(1.01 * (1.0 + 0.1 * i));
    d.anchored_ms.push_back(0.99 * (1.0 + 0.1 * i));
  }
  const std::string html = render_validation_html(d);
  EXPECT_EQ(count(html, "<circle"), 27u);  // three predictors, one point per subnet each
  for (const char* name :
       {"data-name=\"plain sum\"", "data-name=\"corrected\"", "data-name=\"anchored\""})
    EXPECT_EQ(count(html, name), 1u) << name;
  EXPECT_NE(html.find("the noisy-host rule judges"), std::string::npos);
  // An absent predictor draws nothing; a short one is refused, naming it.
  d.anchored_ms.clear();
  EXPECT_EQ(count(render_validation_html(d), "<circle"), 18u);
  EXPECT_EQ(render_validation_html(d).find("data-name=\"anchored\""), std::string::npos);
  d.corrected_ms.pop_back();
  try {
    render_validation_html(d);
    ADD_FAILURE() << "a short corrected series was drawn";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("corrected"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hwnas
