// SurrogateAccuracy: recovers an additive function exactly, reports a sensible CV Kendall tau,
// reads CSV strictly; kendall_tau against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "predictors/surrogate_accuracy.h"
#include "tests/search/toy_spaces.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

TEST(KendallTau, HandComputed) {
  EXPECT_DOUBLE_EQ(kendall_tau({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0);
  EXPECT_DOUBLE_EQ(kendall_tau({1, 2, 3, 4}, {40, 30, 20, 10}), -1.0);
  // Pairs of (1,2,3) vs (1,3,2): concordant 2, discordant 1 -> 1/3.
  EXPECT_NEAR(kendall_tau({1, 2, 3}, {1, 3, 2}), 1.0 / 3.0, 1e-12);
  EXPECT_TRUE(std::isnan(kendall_tau({1, 1, 1}, {1, 2, 3})));
  EXPECT_THROW(kendall_tau({1}, {1, 2}), Error);
}

// An additive function of the genes is exactly what one-hot ridge can represent.
double additive(const Arch& a) {
  const auto& g = a.genes;
  return 0.3 + 0.001 * g[0] + (g[1] == 48 ? 0.02 : 0.0) + 0.01 * g[2] + 0.005 * g[3] * g[3] +
         0.007 * g[4];
}

TEST(SurrogateAccuracy, FitsAnAdditiveFunctionAndRanksWell) {
  auto space = test::make_slim_space();
  const auto all = space->enumerate();
  std::vector<double> acc;
  for (const auto& a : all) acc.push_back(additive(a));
  SurrogateAccuracy s(*space, all, acc, SurrogateParams{.ridge_lambda = 1e-6}, "inline");
  for (const auto& a : all) EXPECT_NEAR(s.predict_one(a), additive(a), 1e-5);
  EXPECT_GT(s.cv_kendall_tau(), 0.95);
  EXPECT_NE(s.source().find("CV Kendall tau"), std::string::npos);
  EXPECT_TRUE(s.thread_safe());
  Arch bad = all[0];
  bad.genes[0] = 17;
  EXPECT_THROW(s.predict_one(bad), Error);
}

TEST(SurrogateAccuracy, ReadsQuotedCsvAndRejectsBadRows) {
  auto space = test::make_slim_space();
  const std::string dir = test::make_temp_dir("hwnas-surrogate");
  auto csv_field = [](std::string json) {
    std::string out = "\"";
    for (char c : json) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  };
  {
    std::ofstream out(dir + "/acc.csv");
    out << "arch,accuracy\n";
    for (const auto& a : space->enumerate())
      out << csv_field(space->to_json(a).dump()) << "," << additive(a) << "\n";
  }
  auto s = SurrogateAccuracy::from_csv(*space, dir + "/acc.csv");
  EXPECT_EQ(s->rows(), space->enumerate().size());
  EXPECT_GT(s->cv_kendall_tau(), 0.9);
  auto expect_error = [&](const std::string& text, const std::string& needle) {
    std::ofstream(dir + "/bad.csv") << text;
    try {
      SurrogateAccuracy::from_csv(*space, dir + "/bad.csv");
      ADD_FAILURE() << "no error for: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error("a,b\n", "header");
  expect_error("arch,accuracy\n{oops,0.5\n", "line 2");
  expect_error("arch,accuracy\n" + csv_field(space->to_json(space->smallest()).dump()) + ",high\n",
               "not a number");
  EXPECT_THROW(SurrogateAccuracy::from_csv(*space, dir + "/missing.csv"), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hwnas
