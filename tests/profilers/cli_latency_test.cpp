// `hwnas profile / predict / validate / agent` end to end on the fake device (no real timing).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluators/quant/int8_gemm.h"
#include "predictors/lut_latency_predictor.h"
#include "profilers/backend.h"
#include "profilers/host_table.h"
#include "profilers/latency_table.h"
#include "spaces/registry.h"
#include "tests/support/skip_without_int8.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

test::CommandResult hwnas_cli(const std::string& args) {
  return test::run_command(std::string(HWNAS_BIN) + " " + args);
}

TEST(LatencyCli, ProfileResumePredictValidateOnFakeDevice) {
  const std::string db = test::make_temp_dir("cli") + "/t.db";
  const auto p1 = hwnas_cli("profile --backend fake --db " + db + " --json");
  ASSERT_EQ(p1.exit_code, 0) << p1.err;
  const auto r1 = nlohmann::json::parse(p1.out);
  const int total = static_cast<int>(get_space("efficientformer").enumerate_blocks(224).size());
  EXPECT_EQ(r1.at("blocks_total"), total);
  EXPECT_EQ(r1.at("blocks_measured"), total);
  EXPECT_EQ(r1.at("device"), "fake");
  const auto p2 = hwnas_cli("profile --backend fake --db " + db + " --json");
  ASSERT_EQ(p2.exit_code, 0) << p2.err;
  EXPECT_EQ(nlohmann::json::parse(p2.out).at("blocks_measured"), 0);

  const auto pr = hwnas_cli("predict --arch l3 --db " + db + " --device fake --json");
  ASSERT_EQ(pr.exit_code, 0) << pr.err;
  const auto j = nlohmann::json::parse(pr.out);
  const SearchSpace& ef = get_space("efficientformer");
  const Network l3 = ef.decode(ef.resolve("l3"));
  const auto lut = LutLatencyPredictor::open(db, "fake");
  EXPECT_DOUBLE_EQ(j.at("latency_ms").get<double>(), lut->predict_ms(l3));
  ASSERT_EQ(j.at("blocks").size(), l3.blocks.size());
  double sum = j.at("overhead_ms").get<double>();
  for (const auto& b : j["blocks"]) sum += b.at("latency_ms").get<double>();
  EXPECT_NEAR(sum, j.at("latency_ms").get<double>(), 1e-9);

  const std::string csv = db + ".csv";
  const auto v = hwnas_cli("validate --db " + db +
                           " --device fake --samples 20 --seed 3 --json "
                           "--fit-correction --csv " +
                           csv);
  ASSERT_EQ(v.exit_code, 0) << v.err;
  const auto m = nlohmann::json::parse(v.out);
  EXPECT_EQ(m.at("samples"), 20);
  for (const char* k : {"rmspe", "within_5pct", "within_10pct", "kendall_tau"}) {
    EXPECT_GE(m.at(k).get<double>(), -1.0) << k;
    EXPECT_LE(m.at(k).get<double>(), 1.0) << k;
    EXPECT_TRUE(m.at("corrected").contains(k)) << k;
  }
  EXPECT_EQ(m.at("correction"), "cross-validated");
  std::ifstream in(csv);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  EXPECT_EQ(lines, 21);
  // The stored correction is now used by predict.
  const auto pr2 = hwnas_cli("predict --arch l3 --db " + db + " --device fake --json");
  EXPECT_TRUE(nlohmann::json::parse(pr2.out).at("corrected").get<bool>());
}

// Rows 35 % slow, as if timed in the wrong variant, and a probe record that kept them: validate
// measures their level and names the other variant with what it would give.
TEST(LatencyCli, ValidateGivesASecondOpinionOnAProbedBlockTiming) {
  const std::string db = test::make_temp_dir("cli-bt") + "/t.db";
  const auto p =
      hwnas_cli("profile --backend fake --space efficientformer-fmnist --db " + db + " --json");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  {
    LatencyTable t(db, LatencyTable::Mode::read_write);
    auto rows = t.rows("fake");
    for (auto& r : rows)
      for (double* v : {&r.stats.median_ms, &r.stats.p10_ms, &r.stats.p90_ms, &r.stats.mean_ms})
        *v *= 1.35;
    t.insert("fake", t.begin_run("fake", "fake", TimingConfig{}), rows);
    t.set_calibration("fake", "block_timing:efficientformer-fmnist",
                      {{"mode", "cold-weights"},
                       {"within_noise", true},
                       {"hot_ratio", {0.84, 0.866}},
                       {"cold_ratio", {1.097, 1.12}}});
  }
  const std::string csv = db + ".csv";
  const std::string validate = "validate --space efficientformer-fmnist --db " + db +
                               " --device fake --samples 12 --seed 2 --csv " + csv;
  const auto v = hwnas_cli(validate + " --json");
  ASSERT_EQ(v.exit_code, 0) << v.err;
  const auto bt = nlohmann::json::parse(v.out).at("block_timing");
  // By hand from the CSV: the median of predicted * speed factor / measured.
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  std::vector<double> ratios;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::string cell;
    std::stringstream rest(line.substr(line.rfind('}') + 3));  // after the quoted arch
    while (std::getline(rest, cell, ',')) f.push_back(cell);
    // blocks,macs,measured_ms,p10,p90,predicted_ms,error_pct,corrected_ms,corrected_error,
    // speed_factor,...
    const double speed = f.size() > 9 && !f[9].empty() ? std::stod(f[9]) : 1.0;
    ratios.push_back(std::stod(f[5]) * speed / std::stod(f[2]));
  }
  ASSERT_EQ(ratios.size(), 12u);
  std::sort(ratios.begin(), ratios.end());
  const double median = (ratios[5] + ratios[6]) / 2;
  EXPECT_GT(median, 1.25);
  EXPECT_NEAR(bt.at("measured_ratio").get<double>(), median, 1e-5);
  EXPECT_NEAR(bt.at("other_ratio").get<double>(), median * 0.853 / 1.1085, 1e-5);
  EXPECT_EQ(bt.at("suggested"), "hot");
  const auto text = hwnas_cli(validate);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("block timing: the rows are timed cold-weights (chosen by the probe, "
                          "within the host's noise)"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("`--block-timing hot`"), std::string::npos) << text.out;
}

TEST(LatencyCli, ResolutionDefaultsToTheSpaces) {
  // efficientformer-fmnist takes 64x64 input only: without --resolution, profile and validate
  // use it instead of 224.
  const std::string db = test::make_temp_dir("cli-res") + "/t.db";
  const auto p =
      hwnas_cli("profile --backend fake --space efficientformer-fmnist --db " + db + " --json");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(nlohmann::json::parse(p.out).at("blocks_total"),
            static_cast<int>(get_space("efficientformer-fmnist").enumerate_blocks(64).size()));
  const auto v = hwnas_cli("validate --space efficientformer-fmnist --db " + db +
                           " --device fake --samples 4 --seed 1 --json");
  ASSERT_EQ(v.exit_code, 0) << v.err;
  EXPECT_EQ(nlohmann::json::parse(v.out).at("samples"), 4);
  EXPECT_EQ(default_resolution(get_space("efficientformer")), 224);
  EXPECT_EQ(default_resolution(get_space("elasticvit-fmnist")), 128);
}

TEST(LatencyCli, BadInputExits2WithMessage) {
  const std::string dir = test::make_temp_dir("cli");
  struct Case {
    std::string args, needle;
  };
  const std::vector<Case> cases = {
      {"predict --arch l1 --db " + dir + "/none.db", "hwnas profile"},
      {"profile --backend gpu --db " + dir + "/x.db", "gpu"},
      {"validate --db " + dir + "/none.db --seed 1", "--samples"},
      {"validate --db " + dir + "/none.db --samples 2 --seed 1 --group 0", "--group"},
      {"profile --agent http://127.0.0.1:1 --db " + dir + "/y.db", "cannot reach agent"},
      {"agent --listen 0.0.0.0:0", "--token"},
      {"agent --listen nonsense", "HOST:PORT"},
  };
  for (const auto& c : cases) {
    const auto r = hwnas_cli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find("error: "), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << c.args << "\n" << r.err;
  }
}

TEST(LatencyCli, EverySubcommandHasHelp) {
  for (const char* cmd : {"profile", "predict", "validate", "agent"}) {
    const auto r = hwnas_cli(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("--"), std::string::npos) << cmd;
  }
}

TEST(LatencyCli, FewShotProfileMeasuresTheBudgetAndPredictsTheRest) {
  const std::string dir = test::make_temp_dir("cli");
  const std::string src = dir + "/src.db", db = dir + "/t.db";
  ASSERT_EQ(hwnas_cli("profile --backend fake --device src --db " + src).exit_code, 0);
  // Another fake device (seed 3: its own jitter) from the source's rows.
  const auto r = hwnas_cli("profile --backend fake --seed 3 --device new --db " + db +
                           " --few-shot " + src + " --budget 4% --error-networks 30 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const int total = static_cast<int>(get_space("efficientformer").enumerate_blocks(224).size());
  const int budget = (4 * total + 99) / 100;  // rounded up
  EXPECT_EQ(j.at("blocks_total"), total);
  EXPECT_EQ(j.at("blocks_measured"), budget);
  EXPECT_EQ(j.at("measured"), budget);
  EXPECT_EQ(j.at("predicted"), total - budget);
  EXPECT_EQ(j.at("source"), src + "#src");
  EXPECT_EQ(j.at("expected_error").at("networks"), 30);
  // The table predicts l3 from its measured and predicted rows alike.
  const auto pr = hwnas_cli("predict --arch l3 --db " + db + " --device new --json");
  ASSERT_EQ(pr.exit_code, 0) << pr.err;
  // Rows already measured count: a smaller budget keeps them all and says it measured more.
  EXPECT_EQ(r.err.find("more than --budget"), std::string::npos) << r.err;
  const auto smaller = hwnas_cli("profile --backend fake --seed 3 --device new --db " + db +
                                 " --few-shot " + src + " --budget 2% --error-networks 30 --json");
  ASSERT_EQ(smaller.exit_code, 0) << smaller.err;
  EXPECT_EQ(nlohmann::json::parse(smaller.out).at("measured"), budget);
  EXPECT_NE(smaller.err.find(std::to_string(budget) + " of the " + std::to_string(total) +
                             " blocks are measured, more than --budget 2%'s " +
                             std::to_string((2 * total + 99) / 100)),
            std::string::npos)
      << smaller.err;

  for (const auto& [args, expect] : std::vector<std::pair<std::string, std::string>>{
           {"--few-shot " + dir + "/none.db --budget 5%", "does not exist"},
           {"--few-shot " + src + "#gpu --budget 5%", "'gpu' is not in"},
           {"--few-shot " + src + " --budget 0", "--budget 0"},
           {"--few-shot " + src + " --budget 5% --batch 4", "--batch 4 applies to the local"}}) {
    const auto e =
        hwnas_cli("profile --backend fake --seed 3 --device other --db " + db + " " + args);
    EXPECT_NE(e.exit_code, 0) << args;
    EXPECT_NE(e.err.find(expect), std::string::npos) << args << ": " << e.err;
  }
}

}  // namespace
}  // namespace hwnas

namespace hwnas {
namespace {

// int8 tables: the local engine profiles a device of its own ("host-int8", precision int8 in the
// table), predict reads it, and int8 is refused by name for a backend that cannot run it.
TEST(LatencyCli, Int8TableIsADeviceOfItsOwn) {
  HWNAS_SKIP_WITHOUT_INT8();
  const std::string dir = test::make_temp_dir("cli-int8");
  const std::string db = dir + "/t.db", archs = dir + "/s.jsonl";
  std::ofstream(archs) << R"({"space":"efficientformer-fmnist","embed_dims":[16,32,64,128],)"
                       << R"("depths":[1,1,1,1],"num_vit":0,"resolution":64})"
                       << "\n";
  const std::string common = " --space efficientformer-fmnist --db " + db + " --archs " + archs +
                             " --windows 1 --overhead-networks 0 --json";
  const auto p = hwnas_cli("profile --precision int8" + common);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(nlohmann::json::parse(p.out).at("device"), "host-int8");
  const auto f = hwnas_cli("profile" + common);
  ASSERT_EQ(f.exit_code, 0) << f.err;
  const LatencyTable table(db, LatencyTable::Mode::read_only);
  ASSERT_TRUE(table.find_device("host-int8"));
  EXPECT_EQ(table.find_device("host-int8")->precision, "int8");
  EXPECT_EQ(table.find_device("host")->precision, "fp32");
  EXPECT_EQ(table.keys("host-int8"), table.keys("host"));
  const auto pred = hwnas_cli("predict --space efficientformer-fmnist --arch s --db " + db +
                              " --device host-int8 --json");
  EXPECT_EQ(pred.exit_code, 0) << pred.err;
  const auto bad = hwnas_cli("profile --precision int8 --backend fake --db " + dir + "/f.db");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--precision int8 applies to the local engine only"), std::string::npos)
      << bad.err;
}

// --depthwise faster: a device of its own, whose per-shape depthwise timings are stored with
// the rows; a later run on the table takes them instead of timing again, so rows added later
// follow the same choices (checked with doctored timings a fresh timing cannot give).
TEST(LatencyCli, DepthwiseFasterTableStoresAndReusesItsChoices) {
  HWNAS_SKIP_WITHOUT_INT8();
  const std::string dir = test::make_temp_dir("cli-dwfaster");
  const std::string db = dir + "/t.db", archs = dir + "/s.jsonl";
  const SearchSpace& space = get_space("elasticvit-fmnist");
  std::ofstream(archs) << space.to_json(space.resolve("s")).dump() << "\n";
  const std::string common = " --space elasticvit-fmnist --db " + db + " --archs " + archs +
                             " --windows 1 --overhead-networks 0 --block-timing hot --json";
  const auto p = hwnas_cli("profile --precision int8 --depthwise faster" + common);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(nlohmann::json::parse(p.out).at("device"), "host-int8-dwfaster");
  nlohmann::json doctored;
  {
    LatencyTable table(db, LatencyTable::Mode::read_write);
    ASSERT_TRUE(table.find_device("host-int8-dwfaster"));
    EXPECT_EQ(table.find_device("host-int8-dwfaster")->precision, "int8-dwfaster");
    const auto choices = table.calibration("host-int8-dwfaster", kKernelChoices);
    ASSERT_TRUE(choices && choices->is_object() && !choices->empty());
    doctored = *choices;
    for (auto& [shape, v] : doctored.items()) {
      EXPECT_GT(v.at("fp32_ms").get<double>(), 0) << shape;
      v["int8_ms"] = 1000 * v.at("int8_ms").get<double>();
    }
    table.set_calibration("host-int8-dwfaster", kKernelChoices, doctored);
  }
  const auto again = hwnas_cli("profile --precision int8 --depthwise faster --force" + common);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const LatencyTable table(db, LatencyTable::Mode::read_only);
  EXPECT_EQ(*table.calibration("host-int8-dwfaster", kKernelChoices), doctored);
  EXPECT_EQ(table.keys("host-int8-dwfaster").size(),
            nlohmann::json::parse(again.out).at("blocks_measured").get<std::size_t>());
  const auto bad = hwnas_cli("profile --depthwise faster" + common);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--depthwise applies to --precision int8"), std::string::npos) << bad.err;
}

// A +precision space's int8 stages read the twin that --depthwise names: with every gene at
// int8, `predict --depthwise faster` gives each block the row of DEVICE-int8-dwfaster, as
// predicting the base space's arch on that device does, and `validate` finds the same twin.
// The rule is refused for a space without precision genes, and a missing twin is named.
TEST(LatencyCli, PredictAndValidateReadTheTwinTheDepthwiseRuleNames) {
  const std::string dir = test::make_temp_dir("cli-twin");
  const std::string db = dir + "/t.db";
  const SearchSpace& space = get_space("elasticvit-fmnist");
  const nlohmann::json base = space.to_json(space.resolve("s"));
  for (const auto& [device, seed] : {std::pair{"d", "1"}, std::pair{"d-int8-dwfaster", "2"}})
    ASSERT_EQ(
        hwnas_cli("profile --backend fake --space elasticvit-fmnist --device " +
                  std::string(device) + " --seed " + seed + " --overhead-networks 0 --db " + db)
            .exit_code,
        0);
  const SearchSpace& mixed = get_space("elasticvit-fmnist+precision");
  nlohmann::json all8 = mixed.to_json(mixed.resolve("s"));
  for (auto& gene : all8.at("precision")) gene = "int8";
  const std::string common = " --db " + db + " --device d --json --arch '";
  const auto twin = hwnas_cli("predict --space elasticvit-fmnist+precision --depthwise faster" +
                              common + all8.dump() + "'");
  ASSERT_EQ(twin.exit_code, 0) << twin.err;
  const auto direct = hwnas_cli("predict --space elasticvit-fmnist --db " + db +
                                " --device d-int8-dwfaster --json --arch '" + base.dump() + "'");
  ASSERT_EQ(direct.exit_code, 0) << direct.err;
  const nlohmann::json t = nlohmann::json::parse(twin.out), d = nlohmann::json::parse(direct.out);
  ASSERT_EQ(t.at("blocks").size(), d.at("blocks").size());
  for (std::size_t i = 0; i < d.at("blocks").size(); ++i)
    EXPECT_EQ(t["blocks"][i]["latency_ms"], d["blocks"][i]["latency_ms"]) << i;
  const auto plain =
      hwnas_cli("predict --space elasticvit-fmnist+precision" + common + all8.dump() + "'");
  EXPECT_NE(plain.exit_code, 0);
  EXPECT_NE(plain.err.find("d-int8"), std::string::npos) << plain.err;
  // validate reads (and, on the fake device, times) the same twin.
  const std::string validate = "validate --space elasticvit-fmnist+precision --db " + db +
                               " --device d --samples 4 --seed 1 --windows 1 --json";
  const auto checked = hwnas_cli(validate + " --depthwise faster");
  ASSERT_EQ(checked.exit_code, 0) << checked.err;
  EXPECT_EQ(nlohmann::json::parse(checked.out).at("samples"), 4);
  const auto no_twin = hwnas_cli(validate);
  EXPECT_NE(no_twin.exit_code, 0);
  EXPECT_NE(no_twin.err.find("'d-int8' is not in latency table"), std::string::npos) << no_twin.err;
  const auto refused = hwnas_cli("predict --space elasticvit-fmnist --depthwise faster" + common +
                                 base.dump() + "'");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("--depthwise applies to a space with precision genes"),
            std::string::npos)
      << refused.err;
}

// The search's first-use profiling of an int8 table (profile_host_table) writes its rows under
// host-int8, not under the fp32 device "host" (which a later fp32 search then refused as
// "profiled on a different device").
TEST(LatencyCli, FirstUseInt8TableGoesUnderItsOwnDevice) {
  HWNAS_SKIP_WITHOUT_INT8();
  const std::string db = test::make_temp_dir("host-int8") + "/t.db";
  const SearchSpace& space = get_space("efficientformer-fmnist");
  profile_host_table(db, host_device_name("int8"), space, nullptr, "int8");
  const LatencyTable table(db, LatencyTable::Mode::read_only);
  ASSERT_TRUE(table.find_device("host-int8"));
  EXPECT_EQ(table.find_device("host-int8")->precision, "int8");
  EXPECT_FALSE(table.find_device("host"));
  EXPECT_TRUE(table_covers_space(db, "host-int8", space));
}

}  // namespace
}  // namespace hwnas
