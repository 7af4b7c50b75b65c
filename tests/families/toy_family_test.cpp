// The toy family of toy_family.cpp, registered from this test only, through every stage a
// built-in family goes through: describe (shapes, params, MACs by hand), the engine (against
// plain loops), the latency table (profiled by the local backend), search (NSGA-II on the
// table) and export (JSON, CSV and ONNX, the ONNX run by ONNX Runtime where it is installed).
// No file of the library names the family: if one had to, this test could not exist.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/rng.h"
#include "evaluators/engine/model.h"
#include "evaluators/families/model_family.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "predictors/lut_latency_predictor.h"
#include "profilers/latency_table.h"
#include "profilers/profile_run.h"
#include "results/family_registration.h"
#include "results/member_weights.h"
#include "results/onnx_export.h"
#include "results/run_data.h"
#include "results/run_exports.h"
#include "results/search_run.h"
#include "spaces/arch_description.h"
#include "spaces/registry.h"
#include "tests/families/toy_family.h"
#include "tests/support/onnx_runtime.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

using test::error_of;

namespace fs = std::filesystem;

const SearchSpace& toy() {
  test::register_toy_family();
  return get_space(test::kToySpace);
}

std::vector<float> random_images(const Network& net, int batch, std::uint64_t seed) {
  std::vector<float> x(static_cast<std::size_t>(batch) * net.input.h * net.input.w * net.input.c);
  Rng rng(seed);
  for (auto& v : x) v = static_cast<float>(2 * uniform_real(rng) - 1);
  return x;
}

// max |a - b| / max(1, max |b|).
double relative_diff(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double diff = 0, scale = 1;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    diff = std::max(diff, std::fabs(a[i] - b[i]));
    scale = std::max(scale, std::fabs(b[i]));
  }
  return diff / scale;
}

TEST(ToyFamily, IsFoundByNameInEveryRegistry) {
  const SearchSpace& space = toy();
  const auto names = space_names();
  EXPECT_NE(std::find(names.begin(), names.end(), test::kToySpace), names.end());
  const auto families = model_family_names();
  EXPECT_NE(std::find(families.begin(), families.end(), "toy"), families.end());
  const BlockSpec conv = BlockSpec::parse("toy_conv:cin=1,c=8,h=8,w=8");
  EXPECT_TRUE(is_registered_block_kind(conv.kind));
  EXPECT_EQ(block_kind_family(conv.kind), "toy");
  EXPECT_EQ(conv.key(), "toy_conv:cin=1,c=8,h=8,w=8");
  EXPECT_EQ(family_of(space.decode(space.largest())).name, "toy");
  // Names are taken once: the same family, a built-in kind or space again registers nothing.
  FamilyRegistration again;
  again.engine = model_family("toy");
  EXPECT_NE(error_of([&] { register_family(again); }).find("'toy' is already registered"),
            std::string::npos);
  FamilyRegistration clash;
  clash.engine = model_family("toy");
  clash.engine.name = "toy2";
  clash.kinds = {registered_block_kind(conv.kind)};
  clash.kinds[0].name = "meta4d";
  EXPECT_NE(error_of([&] { register_family(clash); }).find("'meta4d' already exists"),
            std::string::npos);
  const auto after = model_family_names();
  EXPECT_EQ(std::find(after.begin(), after.end(), "toy2"), after.end());
}

TEST(ToyFamily, DescribeCountsParamsAndMacsAsByHand) {
  const SearchSpace& space = toy();
  const Arch arch{test::kToySpace, {2, 8, 8}};  // depth 2, width 8, 8x8 input
  const nlohmann::json d = describe_arch(space, arch);
  // conv 1->8: 1*9*8 + 8 params, 8*8 positions * 8 * 1 * 9 MACs; conv 8->8: 8*9*8 + 8,
  // 64 * 8 * 8 * 9; head: 8*3 + 3, 8*3.
  ASSERT_EQ(d["blocks"].size(), 3u);
  EXPECT_EQ(d["blocks"][0]["params"], 80);
  EXPECT_EQ(d["blocks"][0]["macs"], 4608);
  EXPECT_EQ(d["blocks"][1]["params"], 584);
  EXPECT_EQ(d["blocks"][1]["macs"], 36864);
  EXPECT_EQ(d["blocks"][2]["params"], 27);
  EXPECT_EQ(d["blocks"][2]["macs"], 24);
  EXPECT_EQ(d["params"], 80 + 584 + 27);
  EXPECT_EQ(d["macs"], 4608 + 36864 + 24);
  EXPECT_EQ(d["blocks"][1]["key"], "toy_conv:cin=8,c=8,h=8,w=8");
  const Network net = space.decode(arch);
  EXPECT_EQ(net.num_classes(), test::kToyClasses);
  EXPECT_NO_THROW(net.check_shapes());
}

TEST(ToyFamily, EngineMatchesPlainLoopsOnFastAndReferencePaths) {
  const SearchSpace& space = toy();
  for (const Arch& arch : {space.smallest(), space.largest(), Arch{test::kToySpace, {2, 4, 12}}}) {
    const Network net = space.decode(arch);
    const WeightStore w = Model::random_weights(net, 11);
    EXPECT_TRUE(w.contains("layers.0.conv.weight"));
    EXPECT_TRUE(w.contains("head.fc.bias"));
    const int batch = 3;
    const std::vector<float> x = random_images(net, batch, 5);
    const std::vector<double> want = test::toy_reference_logits(net, w, x, batch);
    Model model = Model::from_weights(net, w);
    const Tensor in = Tensor::view(x.data(), batch, net.input.h, net.input.w, net.input.c);
    for (KernelPath path : {KernelPath::fast, KernelPath::reference}) {
      model.set_kernel_path(path);
      const Tensor out = model.forward(in);
      const std::vector<double> got(out.data(), out.data() + out.size());
      EXPECT_LE(relative_diff(got, want), 1e-5) << space.to_json(arch).dump();
    }
  }
}

TEST(ToyFamily, HasNoSupernetAndCannotBeMixedWithAnotherFamily) {
  const SearchSpace& space = toy();
  const Arch arch = space.smallest();
  EXPECT_NE(error_of([&] {
              slice_supernet(space, arch, Model::random_weights(space.decode(arch), 1));
            }).find("(model family toy) has no supernet slicing rule"),
            std::string::npos);
  Network mixed = space.decode(arch);
  mixed.blocks.insert(mixed.blocks.begin(), BlockSpec::parse("flatten:c=1,h=8,w=8"));
  EXPECT_NE(error_of([&] { param_prefixes(mixed); }).find("mixes model families"),
            std::string::npos);
}

// One temporary table profiled once for the tests below (at both resolutions of the space).
const std::string& toy_table() {
  static const std::string db = [] {
    toy();
    const std::string path = test::make_temp_dir("hwnas-toy") + "/hwnas.db";
    for (int resolution : {8, 12}) {
      ProfileRunConfig c;
      c.space = test::kToySpace;
      c.resolution = resolution;
      c.db = path;
      c.block_timing = "hot";
      c.threads = 1;
      c.options.timing = TimingConfig{2, 5, 2.0, 1000, 0.0, 0};
      c.options.windows = 1;
      c.options.overhead_networks = 2;
      run_profile(c);
    }
    return path;
  }();
  return db;
}

TEST(ToyFamily, TableHoldsEveryBlockTheSpaceCanProduce) {
  const SearchSpace& space = toy();
  LatencyTable table(toy_table(), LatencyTable::Mode::read_only);
  const auto keys = table.keys("host");
  for (int resolution : {8, 12})
    for (const BlockSpec& b : space.enumerate_blocks(resolution))
      EXPECT_TRUE(keys.count(b.key())) << b.key();
  EXPECT_EQ(keys.size(), 18u);  // 3 widths x (first conv, conv, head) x 2 resolutions
  const auto lut = LutLatencyPredictor::open(toy_table(), "host");
  const double small = lut->predict_ms(space.decode(space.smallest()));
  const double large = lut->predict_ms(space.decode(space.largest()));
  EXPECT_GT(small, 0);
  // 3 convs of 12 channels at 12x12 do about 130x the MACs of one 1->4 conv at 8x8.
  EXPECT_GT(large, small);
}

TEST(ToyFamily, SearchAndExportReachItThroughTheRegistryAlone) {
  const SearchSpace& space = toy();
  const std::string dir = test::make_temp_dir("hwnas-toy-run") + "/run";
  RunConfig config;
  config.space = test::kToySpace;
  config.algorithm = "nsga2";
  config.population = 6;
  config.budget = 18;  // of the 18 archs: the whole space
  config.seed = 3;
  config.objectives = "latency,macs";
  config.db = toy_table();
  config.profile_missing = false;
  SearchRunOptions options;
  options.threads = 1;
  const SearchRunReport report = run_search(config, dir, options);
  ASSERT_FALSE(report.result.front.empty());
  EXPECT_EQ(report.space, test::kToySpace);
  // The objectives are latency (min) and MACs (max, a capacity proxy): the largest arch has the
  // most MACs, so nothing dominates it. Every member's values are the table's prediction and
  // the hand-checked MAC count.
  const RunData run = load_run(dir);
  const auto members = select_members(run, space, "front");
  ASSERT_FALSE(members.empty());
  const auto lut = LutLatencyPredictor::open(toy_table(), "host");
  bool largest = false;
  for (const auto& m : members) {
    largest |= m.arch == space.largest();
    const Network net = space.decode(m.arch);
    EXPECT_DOUBLE_EQ(m.objectives["macs"].get<double>(), static_cast<double>(net.macs()));
    EXPECT_NEAR(m.objectives["latency"].get<double>(), lut->predict_ms(net), 1e-9);
  }
  EXPECT_TRUE(largest) << export_members_json(run, space, members).dump();
  const nlohmann::json exported = export_members_json(run, space, members);
  EXPECT_EQ(exported["members"].size(), members.size());
  EXPECT_EQ(exported["members"][0]["macs"], space.decode(members[0].arch).macs());
  EXPECT_NE(evaluations_csv(run, space).find("\"depth\""), std::string::npos);

  MemberWeights source(run, space, "random");
  const auto ort = test::ort_modules();
  for (const auto& m : members) {
    const Network net = space.decode(m.arch);
    const WeightStore w = source.weights(m.arch, net, 0);
    const std::string path = dir + "/" + m.name + ".onnx";
    OnnxExportOptions batch2;
    batch2.batch = 2;
    const OnnxExportInfo info = export_onnx(net, w, path, batch2);  // runs ONNX's checker
    EXPECT_EQ(info.parameters, net.params());
    const WeightStore back = read_onnx_initializers(path);
    for (const auto& [name, t] : w.tensors) {
      ASSERT_TRUE(back.contains(name)) << name;
      EXPECT_EQ(back.at(name).data, t.data) << name;
    }
    if (!ort) continue;
    const std::vector<float> x = random_images(net, 2, 9);
    const Tensor in = Tensor::view(x.data(), 2, net.input.h, net.input.w, net.input.c);
    const std::vector<float> got = test::run_ort(*ort, path, in);
    EXPECT_LE(relative_diff(std::vector<double>(got.begin(), got.end()),
                            test::toy_reference_logits(net, w, x, 2)),
              1e-5)
        << m.name;
  }
  if (!ort)
    std::cout << "[ skipped  ] ONNX Runtime is not installed: the toy ONNX was checked "
                 "by ONNX's checker and its weights read back, not run\n";
}

}  // namespace
}  // namespace hwnas
