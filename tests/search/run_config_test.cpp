// RunConfig's one strict reader and writer (search/run_config.h).
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "search/run_config.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

std::string error_of(const nlohmann::json& j) {
  try {
    (void)RunConfig::from_json(j, "'x/run.db'");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(RunConfig, RoundTripKeepsEveryFieldAndCompletesAlgorithmParams) {
  RunConfig c;
  c.space = "elasticvit";
  c.algorithm = "flops-window-evolution";
  c.algorithm_params = {{"flops_window", 200}};
  c.population = 12;
  c.seed = 9;
  c.budget = 60;
  c.latency_max_ms = 3.5;
  c.accuracy = "surrogate:acc.csv";
  c.measure_threads = 1;
  c.eval_timeout_s = 30;
  c.fill = true;
  c.backend = "fake";
  c.precision = "int8";
  c.validate();
  EXPECT_EQ(c.algorithm_params["flops_window_width"], 20.0);  // the default, filled in
  const RunConfig back = RunConfig::from_json(c.to_json(), "test");
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.effective_budget(), 60u);
  EXPECT_EQ(back.objective_list(), "latency,accuracy");
}

TEST(RunConfig, OlderVersionsReadWithoutTheFieldsLaterOnesAdded) {
  const RunConfig v1 = RunConfig::from_json({{"version", 1}, {"seed", 4}}, "t");
  EXPECT_EQ(v1.eval_timeout_s, 0.0);
  EXPECT_EQ(v1.seed, 4u);
  EXPECT_EQ(v1.to_json()["version"], 5);
  EXPECT_EQ(v1.precision, "fp32");
  EXPECT_NE(error_of({{"version", 1}, {"eval_timeout_s", 5}}).find("version 1 has no"),
            std::string::npos);
  EXPECT_EQ(RunConfig::from_json({{"version", 2}, {"eval_timeout_s", 5}}, "t").eval_timeout_s, 5);
  EXPECT_NE(error_of({{"version", 6}}).find("newer than this hwnas reads"), std::string::npos);
  // Version 5 added the failure limit; older runs keep their rule: the first failure stops.
  EXPECT_EQ(v1.max_failures, 0u);
  EXPECT_EQ(RunConfig().max_failures, 10u);
  EXPECT_EQ(RunConfig::from_json({{"version", 5}, {"max_failures", 3}}, "t").max_failures, 3u);
  EXPECT_EQ(RunConfig::from_json({{"version", 5}}, "t").max_failures, 10u);
  EXPECT_NE(error_of({{"version", 4}, {"max_failures", 3}}).find("version 4 has no 'max_failures'"),
            std::string::npos);
  // Version 4 added the final re-scoring; older runs resume without one.
  EXPECT_EQ(v1.final_samples, -1);
  EXPECT_EQ(RunConfig::from_json({{"version", 4}, {"final_samples", 0}}, "t").final_samples, 0);
  EXPECT_NE(
      error_of({{"version", 3}, {"final_samples", 0}}).find("version 3 has no 'final_samples'"),
      std::string::npos);
  EXPECT_NE(error_of({{"version", 4}, {"final_samples", -2}}).find("--final-samples"),
            std::string::npos);
  // Version 3 added the precision.
  EXPECT_EQ(RunConfig::from_json({{"version", 3}, {"precision", "int8"}}, "t").precision, "int8");
  EXPECT_NE(error_of({{"version", 2}, {"precision", "int8"}}).find("version 2 has no 'precision'"),
            std::string::npos);
  RunConfig bad;
  bad.precision = "int4";
  EXPECT_THROW(bad.validate(), Error);
  // Mixed precision searches the space with precision genes, scored by a supernet only.
  RunConfig mixed;
  mixed.space = "efficientformer-fmnist";
  mixed.precision = "mixed";
  mixed.accuracy = "supernet:x.safetensors";
  EXPECT_NO_THROW(mixed.validate());
  EXPECT_EQ(mixed.search_space(), "efficientformer-fmnist+precision");
  mixed.accuracy = "surrogate:acc.csv";
  EXPECT_NE(test::error_of([&] { mixed.validate(); }).find("pass --accuracy supernet:FILE"),
            std::string::npos);
  EXPECT_NE(error_of({{"version", 2}, {"eval_timeout_s", -1}}).find("--eval-timeout"),
            std::string::npos);
}

TEST(RunConfig, DefaultsAndAliases) {
  RunConfig c = RunConfig::from_json({{"version", 1}, {"algorithm", "regularized-evolution"}}, "t");
  EXPECT_EQ(c.algorithm, "evolution");  // stored under its canonical name
  EXPECT_EQ(c.effective_budget(), 2000u);
  EXPECT_EQ(c.objective_list(), "latency,macs");
  c = RunConfig::from_json({{"version", 1}, {"algorithm", "slimming"}}, "t");
  EXPECT_EQ(c.effective_budget(), 0u);  // slimming stops by itself: no budget unless given
}

TEST(RunConfig, StrictReaderNamesTheKeyAndTheFile) {
  EXPECT_NE(error_of({{"version", 1}, {"budjet", 5}}).find("budjet"), std::string::npos);
  EXPECT_NE(error_of({{"version", 1}, {"seed", "seven"}}).find("'seed' has the wrong type"),
            std::string::npos);
  EXPECT_NE(error_of({{"version", 6}}).find("newer"), std::string::npos);
  EXPECT_NE(error_of({{"version", 1}, {"space", "mobilenet"}}).find("mobilenet"),
            std::string::npos);
  EXPECT_NE(error_of({{"version", 1}, {"algorithm", "nsga2"}, {"algorithm_params", {{"top_k", 3}}}})
                .find("has no parameter 'top_k'"),
            std::string::npos);
  EXPECT_NE(error_of({{"version", 1},
                      {"algorithm", "generative"},
                      {"algorithm_params", {{"autoregressive", 1}}}})
                .find("must be a boolean"),
            std::string::npos);
  EXPECT_NE(error_of({{"version", 1}, {"prescreen", 0}}).find("--prescreen"), std::string::npos);
  EXPECT_NE(error_of(nlohmann::json::array()).find("'x/run.db'"), std::string::npos);
}

// Runs stored before issue 16 kept every algorithm's parameters at the top level.
TEST(RunConfig, VersionZeroRunsStillRead) {
  const nlohmann::json old = {{"space", "elasticvit"},
                              {"algorithm", "flops-window-evolution"},
                              {"objectives", "macs,params"},
                              {"accuracy", ""},
                              {"db", "hwnas.db"},
                              {"device", "host"},
                              {"latency_max", 0},
                              {"macs_max", 0},
                              {"params_max", 0},
                              {"budget", 60},
                              {"time_budget", 0},
                              {"population", 12},
                              {"seed", 0},
                              {"start", ""},
                              {"autoregressive", false},
                              {"measure_threads", 2},
                              {"flops_window", 200.0},
                              {"flops_window_width", 20.0},
                              {"top_k", 0},
                              {"mutation_prob", 0.0}};
  const RunConfig c = RunConfig::from_json(old, "old");
  EXPECT_EQ(c.algorithm_params["flops_window"], 200.0);
  EXPECT_FALSE(c.algorithm_params.contains("autoregressive"));  // not this algorithm's
  EXPECT_EQ(c.effective_budget(), 60u);
  EXPECT_NE(error_of({{"space", "elasticvit"}, {"algorithm_params", nlohmann::json::object()}})
                .find("version 0"),
            std::string::npos);
}

}  // namespace
}  // namespace hwnas
