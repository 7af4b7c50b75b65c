// `hwnas search` and `hwnas generate` end to end, on a latency table written by the test.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "evaluators/datasets/fashion_mnist.h"
#include "profilers/fake_backend.h"
#include "profilers/latency_table.h"
#include "results/run_data.h"
#include "spaces/registry.h"
#include "tests/support/skip_without_fashion_mnist.h"
#include "tests/support/synthetic_table.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

// ElasticViT's reference MFLOPs of a stored arch (the window's metric).
double window_metric(const SearchSpace& space, const nlohmann::json& arch) {
  return space.extra_metrics(space.from_json(arch)).at("reference_mflops").get<double>();
}

class SearchCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(test::make_temp_dir("hwnas-search-cli"));
    // A complete table of device "testdev": synthetic medians, 0.01 ms + 2 ms per GMAC.
    test::write_synthetic_table(*dir_ + "/t.db", "testdev");
    const SearchSpace& space = get_space("efficientformer");
    // A surrogate CSV: 200 sampled archs with a known accuracy.
    std::ofstream csv(*dir_ + "/acc.csv");
    csv << "arch,accuracy\n";
    Rng rng(4);
    for (int i = 0; i < 200; ++i) {
      const Arch a = space.sample(rng);
      double acc = 0.6;
      for (std::size_t g = 0; g < a.genes.size(); ++g) acc += 0.002 * std::sqrt(a.genes[g]);
      std::string json = space.to_json(a).dump(), quoted;
      for (char c : json) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      csv << '"' << quoted << "\"," << acc << "\n";
    }
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static test::CommandResult hwnas(const std::string& args) {
    return test::run_command(std::string(HWNAS_BIN) + " " + args);
  }
  static std::string common() { return "--db " + *dir_ + "/t.db --device testdev --threads 2 "; }
  static nlohmann::json front(const std::string& out) {
    std::ifstream in(out + "/front.json");
    return nlohmann::json::parse(in);
  }
  static std::string* dir_;
};
std::string* SearchCli::dir_ = nullptr;

TEST_F(SearchCli, DefaultObjectivesWithoutAccuracyAndResume) {
  const std::string out = *dir_ + "/default";
  auto r = hwnas("search " + common() + "--budget 300 --population 20 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("no accuracy source was used"), std::string::npos) << r.out;
  auto j = front(out);
  EXPECT_EQ(j["space"], "efficientformer");
  EXPECT_EQ(j["algorithm"], "nsga2");
  EXPECT_EQ(j["device"], "testdev");
  EXPECT_EQ(j["objectives"][0]["name"], "latency");
  EXPECT_EQ(j["objectives"][0]["sense"], "min");
  EXPECT_EQ(j["objectives"][1]["name"], "macs");
  EXPECT_EQ(j["objectives"][1]["sense"], "max");
  EXPECT_EQ(j["evaluations"], 300);
  EXPECT_GT(j["members"].size(), 3u);
  EXPECT_TRUE(j["accuracy_source"].is_null());
  // Members are mutually non-dominated (min latency, max MACs) and sorted by latency.
  const auto& m = j["members"];
  for (std::size_t a = 0; a < m.size(); ++a)
    for (std::size_t b = 0; b < m.size(); ++b) {
      if (a == b) continue;
      const double la = m[a]["objectives"]["latency"], lb = m[b]["objectives"]["latency"];
      const double ma = m[a]["objectives"]["macs"], mb = m[b]["objectives"]["macs"];
      EXPECT_FALSE(la <= lb && ma >= mb && (la < lb || ma > mb)) << a << " dominates " << b;
    }
  // The same --out without --resume is refused; with --resume the run continues to 500.
  r = hwnas("search " + common() + "--budget 300 --out " + out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--resume"), std::string::npos) << r.err;
  r = hwnas("search --resume --budget 500 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(front(out)["evaluations"], 500);
  EXPECT_TRUE(front(out)["resumed"].get<bool>());
}

TEST_F(SearchCli, SurrogateAccuracyUnderLatencyConstraintAndGenerate) {
  const std::string out = *dir_ + "/gen";
  auto r = hwnas("search " + common() + "--algorithm generative --accuracy surrogate:" + *dir_ +
                 "/acc.csv --latency-max 8 --budget 400 --population 20 --seed 3 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = front(out);
  EXPECT_EQ(j["objectives"][1]["name"], "accuracy");
  EXPECT_NE(j["accuracy_source"].get<std::string>().find("CV Kendall tau"), std::string::npos);
  ASSERT_GT(j["members"].size(), 0u);
  for (const auto& m : j["members"]) {
    EXPECT_LE(m["objectives"]["latency"].get<double>(), 8.0);
    EXPECT_TRUE(m["feasible"].get<bool>());
  }
  EXPECT_TRUE(std::filesystem::exists(out + "/generator.json"));
  r = hwnas("generate --run " + out + " --n 5 --seed 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  const SearchSpace& space = get_space("efficientformer");
  while (std::getline(lines, line)) {
    EXPECT_NO_THROW(space.from_json(nlohmann::json::parse(line))) << line;
    ++n;
  }
  EXPECT_EQ(n, 5);
  EXPECT_EQ(hwnas("generate --run " + out + " --n 5 --seed 1").out, r.out);  // seeded
  EXPECT_EQ(hwnas("generate --run " + *dir_ + "/nothing --n 1").exit_code, 2);
}

TEST_F(SearchCli, SlimmingTrajectoryMeetsTheTarget) {
  const std::string out = *dir_ + "/slim";
  auto r = hwnas("search " + common() + "--algorithm slimming --accuracy surrogate:" + *dir_ +
                 "/acc.csv --latency-max 10 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto traj = front(out)["trajectory"];
  ASSERT_GT(traj.size(), 1u);
  EXPECT_EQ(traj[0]["action"], "start");
  for (std::size_t i = 1; i < traj.size(); ++i)
    EXPECT_LT(traj[i]["latency_ms"].get<double>(), traj[i - 1]["latency_ms"].get<double>());
  EXPECT_LE(traj.back()["latency_ms"].get<double>(), 10.0);
  EXPECT_EQ(front(out)["stop_reason"], "latency target met");
}

TEST_F(SearchCli, BadInputIsAClearError) {
  auto r = hwnas("search " + common() + "--objectives latency,speed --out " + *dir_ + "/bad1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown objective 'speed'"), std::string::npos) << r.err;
  r = hwnas("search --db " + *dir_ + "/none.db --device testdev --out " + *dir_ + "/bad2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("error:"), std::string::npos) << r.err;
  r = hwnas("search " + common() +
            "--accuracy 'external:sh -c \"read x; echo garbage\"' --budget 50 --out " + *dir_ +
            "/bad3");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("garbage"), std::string::npos) << r.err;
  r = hwnas("search " + common() + "--algorithm slimming --out " + *dir_ + "/bad4");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("slimming"), std::string::npos) << r.err;
  r = hwnas("search --resume --out " + *dir_ + "/never");
  EXPECT_EQ(r.exit_code, 2);
}

// --fill on an empty table of the fake device: the search succeeds and the table ends with
// exactly the rows of the evaluated archs' blocks, each the fake backend's value; without
// --fill, the same search fails and names `hwnas profile`.
TEST_F(SearchCli, FillProfilesExactlyTheEvaluatedBlocks) {
  const std::string db = *dir_ + "/fill.db", out = *dir_ + "/fill";
  auto r = hwnas("search --db " + db + " --device fake --budget 40 --population 8 --out " + out +
                 "-nofill");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("hwnas profile"), std::string::npos) << r.err;

  r = hwnas("search --db " + db +
            " --device fake --backend fake --fill --budget 40 --population 8 "
            "--threads 2 --out " +
            out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const SearchSpace& space = get_space("efficientformer");
  std::set<std::string> expected;
  const RunData run = load_run(out);
  ASSERT_EQ(run.evaluations.size(), 40u);
  for (const auto& e : run.evaluations)
    for (const auto& b : space.decode(space.from_json(e.arch)).blocks) expected.insert(b.key());
  LatencyTable table(db, LatencyTable::Mode::read_only);
  const auto rows = table.rows("fake");
  std::set<std::string> stored;
  FakeBackend fake;  // the fake device's defaults: seed 0, 2 threads
  for (const auto& row : rows) {
    stored.insert(row.key);
    EXPECT_NEAR(row.stats.median_ms, fake.block_ms(BlockSpec::parse(row.key)), 1e-12) << row.key;
  }
  EXPECT_EQ(stored, expected);
  EXPECT_EQ(table.find_device("fake")->runtime, fake.device("fake").runtime);
  const auto fill = front(out).at("table_fill");
  EXPECT_EQ(fill.at("rows").get<std::size_t>(), expected.size());
  EXPECT_GT(fill.at("fills").get<std::size_t>(), 0u);
  EXPECT_GE(fill.at("seconds").get<double>(), 0.0);
  EXPECT_NE(r.out.find("filled " + std::to_string(expected.size()) + " rows"), std::string::npos)
      << r.out;

  // Another seed without --fill meets blocks the table lacks: the clear error stays.
  r = hwnas("search --db " + db + " --device fake --budget 40 --population 8 --seed 7 --out " +
            out + "-seed7");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("`hwnas profile"), std::string::npos) << r.err;
  // With --fill it adds only that run's missing rows; the device's stored profile picks the
  // fake backend again (no --backend given).
  r = hwnas("search --db " + db +
            " --device fake --fill --budget 40 --population 8 --seed 7 "
            "--out " +
            out + "-seed7b");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> union_keys = expected;
  for (const auto& e : load_run(out + "-seed7b").evaluations)
    for (const auto& b : space.decode(space.from_json(e.arch)).blocks) union_keys.insert(b.key());
  EXPECT_EQ(LatencyTable(db, LatencyTable::Mode::read_only).keys("fake").size(), union_keys.size());
}

TEST_F(SearchCli, FlopsWindowEvolutionRunsAndResumes) {
  const std::string base =
      "search --space elasticvit --algorithm flops-window-evolution "
      "--objectives macs,params --flops-window 200 --population 12 "
      "--threads 2 ";
  auto r = hwnas(base + "--budget 60 --out " + *dir_ + "/fwe-whole");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Interrupt at the end of the whole run's generation 2 (generations may come out smaller than
  // 12 when children are rejected, so the boundary is read from the run).
  const auto gens = load_run(*dir_ + "/fwe-whole").generations;
  ASSERT_GT(gens.size(), 3u);
  const std::size_t cut = gens.at(2).evaluations;
  ASSERT_LT(cut, 60u);
  r = hwnas(base + "--budget " + std::to_string(cut) + " --out " + *dir_ + "/fwe-part");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = hwnas("search --resume --budget 60 --out " + *dir_ + "/fwe-part");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto a = load_run(*dir_ + "/fwe-whole"), b = load_run(*dir_ + "/fwe-part");
  ASSERT_EQ(a.evaluations.size(), b.evaluations.size());
  const auto& space = get_space("elasticvit");
  for (std::size_t i = 0; i < a.evaluations.size(); ++i) {
    EXPECT_EQ(a.evaluations[i].arch, b.evaluations[i].arch) << i;
    const double f = window_metric(space, a.evaluations[i].arch);
    EXPECT_GE(f, 200.0);
    EXPECT_LE(f, 220.0);
  }
  EXPECT_EQ(front(*dir_ + "/fwe-whole").at("members"), front(*dir_ + "/fwe-part").at("members"));
  r = hwnas(
      "search --space elasticvit --algorithm flops-window-evolution --objectives macs "
      "--out " +
      *dir_ + "/fwe-nowindow");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--flops-window"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hwnas

namespace hwnas {
namespace {

std::string bundled_supernet() {
  return (std::filesystem::path(test::test_data_dir()) / ".." / ".." / "data" / "supernets" /
          "efficientformer-fmnist.safetensors")
      .string();
}

// The supernet accuracy objective in a short search: every archived accuracy is the engine's
// top-1 of the subnet sliced from the bundled supernet, as `hwnas eval` computes it on the same
// val images; latency rows come from the fake device as the search asks for them.
TEST_F(SearchCli, SupernetAccuracyObjectiveMatchesHwnasEval) {
  HWNAS_SKIP_WITHOUT_FASHION_MNIST();
  const std::string weights = bundled_supernet();
  const std::string out = *dir_ + "/supernet";
  const auto r = hwnas("search --space efficientformer-fmnist --accuracy supernet:" + weights +
                       " --accuracy-samples 200 --final-samples 400 --prescreen 1 --budget 12 "
                       "--population 6 --seed 3 "
                       "--db " +
                       *dir_ + "/fm.db --device fakefm --backend fake --fill --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out + r.err;
  EXPECT_NE(r.out.find("supernet: "), std::string::npos) << r.out + r.err;
  const nlohmann::json f = front(out);
  ASSERT_TRUE(f.contains("supernet_evaluation")) << f.dump();
  EXPECT_GE(f["supernet_evaluation"]["evaluations"].get<int>(), 12);
  ASSERT_FALSE(f["members"].empty());
  const nlohmann::json& member = f["members"][0];
  const double acc = member["objectives"]["accuracy"].get<double>();
  // The front was re-scored on 400 images after the search (--final-samples), so its values
  // are `hwnas eval`'s on the first 400 val images, each with its count and Wilson interval.
  const auto e = hwnas("eval --space efficientformer-fmnist --arch '" + member["arch"].dump() +
                       "' --weights " + weights + " --split val --samples 400 --json");
  ASSERT_EQ(e.exit_code, 0) << e.out + e.err;
  const nlohmann::json ej = nlohmann::json::parse(e.out.substr(e.out.find('{')));
  EXPECT_DOUBLE_EQ(acc, ej["top1"].get<double>());
  ASSERT_TRUE(f.contains("final_rescore")) << f.dump();
  EXPECT_GE(f["final_rescore"]["candidates"].get<std::size_t>(), f["members"].size());
  for (const auto& m : f["members"]) {
    EXPECT_EQ(m["samples"]["accuracy"], 400) << m.dump();
    const double a = m["objectives"]["accuracy"], lo = m["intervals"]["accuracy"][0],
                 hi = m["intervals"]["accuracy"][1];
    EXPECT_LT(lo, a);
    EXPECT_GT(hi, a);
  }
  // The space's named members, scored the same way, as labelled reference points.
  ASSERT_TRUE(f.contains("references")) << f.dump();
  std::set<std::string> names;
  for (const auto& ref : f["references"]) {
    names.insert(ref["name"].get<std::string>());
    EXPECT_EQ(ref["samples"]["accuracy"], 400) << ref.dump();
  }
  EXPECT_EQ(names, (std::set<std::string>{"s", "m", "l"}));
  std::ifstream report(out + "/report.html");
  const std::string html((std::istreambuf_iterator<char>(report)),
                         std::istreambuf_iterator<char>());
  EXPECT_NE(html.find("class=\"error-bar\""), std::string::npos);
  EXPECT_NE(html.find("<table id=\"references\">"), std::string::npos);
  // Accuracies differ across the front (the supernet tells subnets apart).
  std::set<double> seen;
  for (const auto& m : f["members"]) seen.insert(m["objectives"]["accuracy"].get<double>());
  EXPECT_GE(seen.size(), std::min<std::size_t>(2, f["members"].size()));
  EXPECT_FALSE(f.contains("accuracy_prescreen")) << "--prescreen 1 turns screening off";
}

// In one process a supernet search screens by default (--prescreen 0.5: the README's main job).
TEST_F(SearchCli, SupernetSearchScreensByDefault) {
  HWNAS_SKIP_WITHOUT_FASHION_MNIST();
  const std::string weights = bundled_supernet();
  const std::string out = *dir_ + "/screened";
  const auto r = hwnas("search --space efficientformer-fmnist --accuracy supernet:" + weights +
                       " --accuracy-samples 50 --final-samples -1 --budget 4 --population 2 "
                       "--seed 3 --db " +
                       *dir_ + "/fm.db --device fakefm --backend fake --fill --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out + r.err;
  EXPECT_NE(r.out.find("keep 50 % of each batch"), std::string::npos) << r.out;
  EXPECT_TRUE(front(out).contains("accuracy_prescreen"));
}

}  // namespace
}  // namespace hwnas

namespace hwnas {
namespace {

// The embedded default (profilers/host_table.h, a step of run_search): a search on device "host"
// whose table lacks the space profiles it first, once; a table of another device is never
// profiled in-process, and a search that needs no latency opens no table.
TEST_F(SearchCli, HostTableIsProfiledOnFirstUseOnly) {
  const std::string db = *dir_ + "/host.db";
  const std::string base =
      "search --space efficientformer-fmnist --objectives latency,macs "
      "--budget 10 --population 5 --threads 2 --db " +
      db + " ";
  auto r = hwnas(base + "--out " + *dir_ + "/first");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("lacks the efficientformer-fmnist space at 64: profiling it first"),
            std::string::npos)
      << r.err;
  {
    const LatencyTable table(db, LatencyTable::Mode::read_only);
    ASSERT_TRUE(table.find_device("host").has_value());
    const auto& space = get_space("efficientformer-fmnist");
    const auto keys = table.keys("host");
    for (const Arch& a : {space.smallest(), space.largest()})
      for (const auto& b : space.decode(a).blocks) EXPECT_TRUE(keys.count(b.key())) << b.key();
  }
  r = hwnas(base + "--out " + *dir_ + "/second");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("profiling it first"), std::string::npos) << r.err;
  // Another device is never profiled here: the missing table is a one-line error.
  r = hwnas(base + "--device phone --out " + *dir_ + "/phone");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("phone"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("profiling it first"), std::string::npos) << r.err;
  // No latency objective or constraint: no table is opened or made.
  r = hwnas(
      "search --space efficientformer-fmnist --objectives macs,params --budget 10 "
      "--population 5 --db " +
      *dir_ + "/never.db --out " + *dir_ + "/nolatency");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(*dir_ + "/never.db"));
}

}  // namespace
}  // namespace hwnas
