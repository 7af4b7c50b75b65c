// The CLI surface of the ElasticViT and TurboViT-style spaces.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "spaces/elasticvit_space.h"
#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

test::CommandResult hwnas_cli(const std::string& args) {
  return test::run_command(std::string(HWNAS_BIN) + " " + args);
}

std::vector<nlohmann::json> lines_of(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) v.push_back(nlohmann::json::parse(line));
  return v;
}

TEST(SpacesCli, ComplexityAwareSamplerPrintsOneSeededLinePerStep) {
  const auto a =
      hwnas_cli("sample --space elasticvit --sampler complexity-aware --steps 12 --seed 3");
  const auto b =
      hwnas_cli("sample --space elasticvit --sampler complexity-aware --steps 12 --seed 3");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  const auto& s = dynamic_cast<const ElasticVitSpace&>(get_space("elasticvit"));
  const auto steps = lines_of(a.out);
  ASSERT_EQ(steps.size(), 12u);
  int prev = 0;
  for (const auto& st : steps) {
    const int level = st.at("level").get<int>();
    EXPECT_LE(std::abs(st.at("level_index").get<int>() - prev), 1);
    prev = st.at("level_index").get<int>();
    for (const auto& sub : st.at("subnets")) {
      const double f = s.reference_mflops(s.from_json(sub.at("arch")));
      EXPECT_NEAR(f, sub.at("reference_mflops").get<double>(), 1e-9);
      EXPECT_GE(f, level);
      EXPECT_LE(f, level + 20);
    }
  }
}

TEST(SpacesCli, PerformanceAwareSamplerReportsSyntheticScores) {
  const auto r =
      hwnas_cli("sample --space elasticvit --sampler performance-aware --steps 6 --seed 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto steps = lines_of(r.out);
  ASSERT_EQ(steps.size(), 6u);
  EXPECT_TRUE(steps[0].at("subnets")[0].contains("synthetic_score"));
  const auto help = hwnas_cli("sample --help");
  EXPECT_NE(help.out.find("SYNTHETIC"), std::string::npos);
}

TEST(SpacesCli, SamplerNeedsElasticVit) {
  const auto r = hwnas_cli("sample --space efficientformer --sampler complexity-aware --steps 2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--space elasticvit"), std::string::npos) << r.err;
}

TEST(SpacesCli, DescribeShowsReferenceMflopsAndReconstructionNote) {
  const auto r = hwnas_cli("describe --space elasticvit --arch t1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(nlohmann::json::parse(r.out).at("reference_mflops").get<double>(), 62.91512, 1e-6);
  const auto t = hwnas_cli("describe --space turbovit --arch turbovit-ref");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("not public"), std::string::npos);
  const auto sp = hwnas_cli("spaces");
  EXPECT_NE(sp.out.find("RECONSTRUCTED"), std::string::npos);
}

}  // namespace
}  // namespace hwnas
