// `hwnas export` end to end on a short search over a synthetic table: every format parses, the
// JSON's decoded configs rebuild the same archs, the CSV has one row per evaluation, ONNX files
// pass the checker, bad input exits 2 and leaves nothing behind; the ONNX files of a run scored
// with a supernet carry that supernet's sliced, BN-recalibrated weights, and those of an int8
// run are QDQ graphs that ONNX Runtime runs to the engine's int8 logits.
#include <gtest/gtest.h>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/rng.h"
#include "evaluators/accuracy/subnet_evaluation.h"
#include "evaluators/datasets/fashion_mnist.h"
#include "evaluators/engine/model.h"
#include "evaluators/quant/int8_gemm.h"
#include "evaluators/runtime/thread_scope.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "predictors/mixed_precision_latency.h"
#include "results/onnx_export.h"
#include "spaces/precision_genes.h"
#include "spaces/registry.h"
#include "tests/support/onnx_runtime.h"
#include "tests/support/skip_without_fashion_mnist.h"
#include "tests/support/skip_without_int8.h"
#include "tests/support/synthetic_table.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

namespace fs = std::filesystem;

class ExportCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(test::make_temp_dir("hwnas-export-cli"));
    test::write_synthetic_table(*dir_ + "/t.db", "testdev");
    const auto r = hwnas("search --db " + *dir_ +
                         "/t.db --device testdev --budget 200 --population 20 "
                         "--latency-max 8 --seed 3 --out " +
                         run());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static test::CommandResult hwnas(const std::string& args) {
    return test::run_command(std::string(HWNAS_BIN) + " " + args);
  }
  static std::string run() { return *dir_ + "/run"; }
  static std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static std::string* dir_;
};
std::string* ExportCli::dir_ = nullptr;

TEST_F(ExportCli, SearchLeavesReportAndMemberFiles) {
  EXPECT_TRUE(fs::exists(run() + "/report.html"));
  EXPECT_TRUE(fs::exists(run() + "/members/m0.json"));
  std::istringstream in(slurp(run() + "/report.html"));
  boost::property_tree::ptree tree;
  EXPECT_NO_THROW(boost::property_tree::read_xml(in, tree));
}

TEST_F(ExportCli, JsonConfigsRebuildTheSameArchs) {
  const auto r = hwnas("export --run " + run() + " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(slurp(run() + "/export.json"));
  const auto front = nlohmann::json::parse(slurp(run() + "/front.json"));
  const SearchSpace& space = get_space("efficientformer");
  ASSERT_EQ(j["members"].size(), front["members"].size());
  EXPECT_EQ(j["device"], "testdev");
  EXPECT_EQ(j["seed"], 3);
  for (const auto& m : j["members"]) {
    // timm's keyword arguments plus the resolution give back the arch.
    const auto& kw = m["config"]["kwargs"];
    const Arch rebuilt = space.from_json({{"space", "efficientformer"},
                                          {"embed_dims", kw["embed_dims"]},
                                          {"depths", kw["depths"]},
                                          {"num_vit", kw["num_vit"]},
                                          {"resolution", m["config"]["img_size"]}});
    EXPECT_EQ(space.to_json(rebuilt), m["arch"]);
    EXPECT_EQ(m["params"].get<std::int64_t>(), space.decode(rebuilt).params());
    // The synthetic table's latency is hand-checkable: 0.01 ms + 2 ms/GMAC per block (+ overhead
    // 0).
    double expected = 0;
    for (const auto& b : space.decode(rebuilt).blocks) expected += 0.01 + block_cost(b).macs * 2e-9;
    EXPECT_NEAR(m["objectives"]["latency"].get<double>(), expected, 1e-6 * expected);
    EXPECT_LE(m["objectives"]["latency"].get<double>(), 8.0 + 1e-9);
  }
}

TEST_F(ExportCli, CsvHasOneRowPerEvaluation) {
  ASSERT_EQ(hwnas("export --run " + run() + " --format csv --out " + *dir_ + "/e.csv").exit_code,
            0);
  std::istringstream lines(slurp(*dir_ + "/e.csv"));
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line.rfind("id,generation,on_front,feasible,violation,latency,macs", 0), 0u) << line;
  int rows = 0, on_front = 0;
  while (std::getline(lines, line)) {
    ++rows;
    std::istringstream fields(line);
    std::string id, generation, front_flag;
    std::getline(fields, id, ',');
    std::getline(fields, generation, ',');
    std::getline(fields, front_flag, ',');
    on_front += front_flag == "1";
  }
  EXPECT_EQ(rows, 200);
  EXPECT_GT(on_front, 0);
}

TEST_F(ExportCli, SvgAndHtmlAreWellFormed) {
  for (const char* fmt : {"svg", "html"}) {
    const std::string out = *dir_ + "/x." + fmt;
    ASSERT_EQ(hwnas("export --run " + run() + " --format " + fmt + " --out " + out).exit_code, 0)
        << fmt;
    std::istringstream in(slurp(out));
    boost::property_tree::ptree tree;
    EXPECT_NO_THROW(boost::property_tree::read_xml(in, tree)) << fmt;
  }
  // l1 is drawn as a labelled reference point predicted on the same table.
  EXPECT_NE(slurp(*dir_ + "/x.svg").find(">l1<"), std::string::npos);
}

TEST_F(ExportCli, OnnxFilesPassTheChecker) {
  const std::string out = *dir_ + "/onnx";
  const auto r = hwnas("export --run " + run() + " --format onnx --members 2 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"m0", "m1"}) {
    std::ifstream in(out + "/" + name + ".onnx", std::ios::binary);
    onnx::ModelProto m;
    ASSERT_TRUE(m.ParseFromIstream(&in)) << name;
    EXPECT_NO_THROW(onnx::checker::check_model(m));
  }
  EXPECT_FALSE(fs::exists(out + "/m2.onnx"));
}

TEST_F(ExportCli, BadInputExitsTwoAndWritesNothing) {
  const std::string not_a_run = test::make_temp_dir("hwnas-not-run");
  std::ofstream(not_a_run + "/run.db") << "this is not sqlite";
  const std::string cases[] = {
      "export --run /nonexistent/run --format json",
      "export --run " + not_a_run + " --format json",
      "export --run " + run() + " --format pdf",
      "export --run " + run() + " --format json --members zero",
      "export --run " + run() + " --format html --out /nonexistent-dir/report.html",
      "export --run " + run() + " --format onnx --weights /nonexistent/supernet.safetensors",
      // No accuracy objective, let alone a supernet, to re-score.
      "export --run " + run() + " --format json --rescore test",
      "export --run " + run() + " --format json --rescore train",
  };
  for (const auto& args : cases) {
    const auto r = hwnas(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << args << "\n" << r.err;
  }
  EXPECT_FALSE(fs::exists("/nonexistent-dir/report.html.tmp"));
  fs::remove_all(not_a_run);
}

std::string bundled_supernet() {
  return test::test_data_dir() + "/../../data/supernets/efficientformer-fmnist.safetensors";
}

// A six-evaluation search scored with the bundled supernet (plus `flags`) into DIR/run, then
// its first member exported to DIR/onnx/m0.onnx: the export's result, or the search's if it
// failed.
test::CommandResult search_and_export_onnx(const std::string& dir, const std::string& flags) {
  const std::string bin = HWNAS_BIN;
  const auto r = test::run_command(
      bin + " search --space efficientformer-fmnist --accuracy supernet:" + bundled_supernet() +
      flags +
      " --accuracy-samples 100 --final-samples 300 --prescreen 1 --budget 6 --population 3 --seed "
      "2 --db " +
      dir + "/fm.db --device fakefm --backend fake --fill --out " + dir + "/run");
  if (r.exit_code != 0) return r;
  return test::run_command(bin + " export --run " + dir + "/run --format onnx --members 1 --out " +
                           dir + "/onnx");
}

// A run whose accuracy came from the bundled supernet: each ONNX member holds the subnet sliced
// from it, with the BN statistics the search's evaluation recalibrated (not the checkpoint's).
TEST(ExportSupernetRun, OnnxCarriesTheSupernetsSlicedRecalibratedWeights) {
  HWNAS_SKIP_WITHOUT_FASHION_MNIST();
  const std::string dir = test::make_temp_dir("hwnas-export-supernet");
  const std::string weights = bundled_supernet();
  const std::string bin = HWNAS_BIN;
  auto r = search_and_export_onnx(dir, "");
  ASSERT_EQ(r.exit_code, 0) << r.out + r.err;
  EXPECT_NE(r.out.find("from " + weights), std::string::npos) << r.out;
  const nlohmann::json front = nlohmann::json::parse(std::ifstream(dir + "/run/front.json"));
  const SearchSpace& space = get_space("efficientformer-fmnist");
  const Arch arch = space.from_json(front["members"][0]["arch"]);
  const WeightStore exported = read_onnx_initializers(dir + "/onnx/m0.onnx");
  const WeightStore sliced = slice_supernet(space, arch, load_safetensors(weights));
  SubnetEvalOptions eo;
  eo.split = "val";
  const WeightStore recalibrated = SubnetEvaluator(space, weights, eo).subnet_weights(arch);
  int convs = 0, stats = 0, moved = 0;
  for (const auto& [name, t] : sliced.tensors) {
    const auto it = exported.tensors.find(name);
    ASSERT_NE(it, exported.tensors.end()) << name;
    if (name.find("running_") == std::string::npos) {
      EXPECT_EQ(it->second.data, t.data) << name;
      ++convs;
    } else {
      EXPECT_EQ(it->second.data, recalibrated.tensors.at(name).data) << name;
      moved += it->second.data != t.data;
      ++stats;
    }
  }
  EXPECT_GT(convs, 10);
  EXPECT_GT(stats, 4);
  EXPECT_EQ(moved, stats);  // every BN's statistics were re-estimated

  // The held-out re-scoring: each member's top-1 on the test split is `hwnas eval`'s, with its
  // interval, and the dominated marks agree with a brute-force check of the held-out values.
  r = test::run_command(bin + " export --run " + dir +
                        "/run --format json --rescore test --rescore-samples 200 --out " + dir +
                        "/x.json");
  ASSERT_EQ(r.exit_code, 0) << r.out + r.err;
  EXPECT_NE(r.out.find("held-out re-score on test (200 images each)"), std::string::npos) << r.out;
  const nlohmann::json x = nlohmann::json::parse(std::ifstream(dir + "/x.json"));
  ASSERT_FALSE(x["members"].empty());
  const auto e = test::run_command(bin + " eval --space efficientformer-fmnist --arch '" +
                                   x["members"][0]["arch"].dump() + "' --weights " + weights +
                                   " --split test --samples 200 --json");
  ASSERT_EQ(e.exit_code, 0) << e.out + e.err;
  EXPECT_DOUBLE_EQ(x["members"][0]["heldout"]["accuracy"].get<double>(),
                   nlohmann::json::parse(e.out.substr(e.out.find('{')))["top1"].get<double>());
  std::size_t dominated = 0;
  for (const auto& m : x["members"]) {
    const double lat = m["objectives"]["latency"], acc = m["heldout"]["accuracy"];
    EXPECT_EQ(m["heldout"]["samples"], 200);
    bool by_any = false;
    for (const auto& o : x["members"]) {
      const double olat = o["objectives"]["latency"], oacc = o["heldout"]["accuracy"];
      by_any = by_any || (olat <= lat && oacc >= acc && (olat < lat || oacc > acc));
    }
    EXPECT_EQ(by_any, !m["heldout"]["dominated_by"].is_null()) << m.dump();
    dominated += by_any;
  }
  EXPECT_EQ(x["heldout"]["dominated"].get<std::size_t>(), dominated);
  // Held-out scores go into the JSON export only; a run without a supernet cannot be re-scored.
  r = test::run_command(bin + " export --run " + dir + "/run --format csv --rescore test");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--format json"), std::string::npos) << r.err;
  // The CSV carries each accuracy's count and interval.
  r = test::run_command(bin + " export --run " + dir + "/run --format csv --out " + dir + "/e.csv");
  ASSERT_EQ(r.exit_code, 0) << r.out + r.err;
  std::ifstream csv(dir + "/e.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_NE(header.find("accuracy:samples,accuracy:ci_lo,accuracy:ci_hi"), std::string::npos)
      << header;
  fs::remove_all(dir);
}

// An int8 run: each ONNX member is the QDQ graph of the plan its search calibrated (the run's
// supernet, data and defaults), and ONNX Runtime runs it to the engine's int8 logits.
TEST(ExportSupernetRun, Int8MembersAreQdqGraphsOfTheSearchsPlan) {
  HWNAS_SKIP_WITHOUT_INT8();
  HWNAS_REQUIRE_ORT(modules);
  HWNAS_SKIP_WITHOUT_FASHION_MNIST();
  const std::string dir = test::make_temp_dir("hwnas-export-int8");
  const std::string weights = bundled_supernet();
  const auto r = search_and_export_onnx(dir, " --precision int8");
  ASSERT_EQ(r.exit_code, 0) << r.out + r.err;

  const nlohmann::json front = nlohmann::json::parse(std::ifstream(dir + "/run/front.json"));
  const SearchSpace& space = get_space("efficientformer-fmnist");
  const Arch arch = space.from_json(front["members"][0]["arch"]);
  SubnetEvalOptions eo;
  eo.split = "val";
  eo.precision = "int8";
  SubnetEvaluator evaluator(space, weights, eo);
  const QuantPlan plan = evaluator.int8_plan(arch);
  EXPECT_NE(r.out.find("int8 QDQ: " + std::to_string(plan.layers.size()) + " quantized GEMM"),
            std::string::npos)
      << r.out;
  onnx::ModelProto model;
  std::ifstream in(dir + "/onnx/m0.onnx", std::ios::binary);
  ASSERT_TRUE(model.ParseFromIstream(&in));
  EXPECT_EQ(std::count_if(model.graph().node().begin(), model.graph().node().end(),
                          [](const auto& n) { return n.op_type() == "QuantizeLinear"; }),
            static_cast<long>(plan.layers.size()));

  const Network net = space.decode(arch);
  Tensor input(1, net.input.h, net.input.w, net.input.c);  // the export's batch
  Rng rng(9);
  for (std::size_t i = 0; i < input.size(); ++i)
    input.data()[i] = static_cast<float>(2 * uniform_real(rng) - 1);
  ThreadScope scope(2);
  Model engine = Model::from_weights(net, evaluator.subnet_weights(arch));
  const Tensor fp32 = engine.forward(input);
  quantize_int8(engine, plan);
  const Tensor want = engine.forward(input);
  const std::vector<float> got = test::run_ort(*modules, dir + "/onnx/m0.onnx", input);
  ASSERT_EQ(got.size(), want.size());
  const auto [lo, hi] = std::minmax_element(want.data(), want.data() + want.size());
  double diff = 0, from_fp32 = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    diff = std::max(diff, std::fabs(double(got[i]) - want.data()[i]));
    from_fp32 = std::max(from_fp32, std::fabs(double(got[i]) - fp32.data()[i]));
  }
  EXPECT_LE(diff, (*hi - *lo) / 255.0) << "ONNX Runtime vs engine int8 logits";
  EXPECT_GT(from_fp32, diff) << "the runtime ran the graph in fp32";
  fs::remove_all(dir);
}

// A mixed-precision run (--precision mixed): its space carries a precision gene per stage, each
// member's latency is the sum of its fp32 blocks' rows in one table and its int8 blocks' rows
// in the int8 twin, and each exported member quantizes exactly the GEMM layers of its int8
// stages (the QuantizeLinear count equals the mixed evaluation's plan and the layers those
// blocks pack).
TEST(ExportSupernetRun, MixedMembersQuantizeTheirInt8StagesOnly) {
  HWNAS_SKIP_WITHOUT_INT8();
  HWNAS_SKIP_WITHOUT_FASHION_MNIST();
  const std::string dir = test::make_temp_dir("hwnas-export-mixed");
  const std::string bin = HWNAS_BIN;
  const std::string db = dir + "/fm.db";
  for (const char* device : {"fakefm --seed 1", "fakefm-int8 --seed 2"}) {
    const auto p = test::run_command(bin +
                                     " profile --space efficientformer-fmnist --backend fake "
                                     "--db " +
                                     db + " --device " + device);
    ASSERT_EQ(p.exit_code, 0) << p.err;
  }
  const std::string search =
      bin + " search --space efficientformer-fmnist --accuracy supernet:" + bundled_supernet() +
      " --precision mixed --accuracy-samples 100 --final-samples 300 "
      "--prescreen 1 --budget 8 --population 4 --seed 3 --db " +
      db + " --device fakefm --out " + dir + "/run";
  const auto fill = test::run_command(search + "x --fill");
  EXPECT_NE(fill.exit_code, 0);
  EXPECT_NE(fill.err.find("instead of --fill"), std::string::npos) << fill.err;
  const auto r = test::run_command(search);
  ASSERT_EQ(r.exit_code, 0) << r.out + r.err;
  const nlohmann::json front = nlohmann::json::parse(std::ifstream(dir + "/run/front.json"));
  ASSERT_EQ(front["space"], "efficientformer-fmnist+precision");
  const SearchSpace& space = get_space("efficientformer-fmnist+precision");
  const MixedPrecisionLatency tables(LutLatencyPredictor::open(db, "fakefm"),
                                     LutLatencyPredictor::open(db, "fakefm-int8"));
  ASSERT_FALSE(front["members"].empty());
  for (const auto& m : front["members"]) {
    ASSERT_EQ(m["arch"]["precision"].size(), 4u) << m.dump();
    const Network net = space.decode(space.from_json(m["arch"]));
    EXPECT_NEAR(m["objectives"]["latency"].get<double>(), tables.predict_ms(net), 1e-9);
  }
  const auto predicted = test::run_command(
      bin + " predict --space efficientformer-fmnist+precision --db " + db +
      " --device fakefm --json --arch '" + front["members"][0]["arch"].dump() + "'");
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  EXPECT_NEAR(nlohmann::json::parse(predicted.out)["latency_ms"].get<double>(),
              front["members"][0]["objectives"]["latency"].get<double>(), 1e-9);
  const auto e = test::run_command(bin + " export --run " + dir +
                                   "/run --format onnx --members 1 --out " + dir + "/onnx");
  ASSERT_EQ(e.exit_code, 0) << e.out + e.err;
  const Arch arch = space.from_json(front["members"][0]["arch"]);
  SubnetEvalOptions eo;
  eo.split = "val";
  eo.precision = "mixed";
  const QuantPlan plan = SubnetEvaluator(space, bundled_supernet(), eo).int8_plan(arch);
  // By hand: the whole-int8 plan of the same subnet, cut to the layers of its int8 blocks.
  eo.precision = "int8";
  const SearchSpace& base = get_space("efficientformer-fmnist");
  const QuantPlan full =
      SubnetEvaluator(base, bundled_supernet(), eo).int8_plan(base_arch(space, arch));
  const Network net = space.decode(arch);
  const Model blocks_of = Model::random(net, 1);
  std::vector<int> want, got;
  for (const LayerQuant& l : full.layers)
    if (net.block_int8.at(blocks_of.gemm_layer_blocks().at(l.index))) want.push_back(l.index);
  for (const LayerQuant& l : plan.layers) got.push_back(l.index);
  EXPECT_EQ(got, want);
  const std::size_t int8_layers = want.size();
  onnx::ModelProto model;
  std::ifstream in(dir + "/onnx/m0.onnx", std::ios::binary);
  ASSERT_TRUE(model.ParseFromIstream(&in));
  EXPECT_EQ(std::count_if(model.graph().node().begin(), model.graph().node().end(),
                          [](const auto& n) { return n.op_type() == "QuantizeLinear"; }),
            static_cast<long>(int8_layers));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hwnas
