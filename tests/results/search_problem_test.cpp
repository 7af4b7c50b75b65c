// SearchProblem's wiring of an int8-dwfaster search to its table: the depthwise timings stored
// with the table's rows become the process's, so the subnets the search scores choose their
// depthwise kernels as the rows it prices did (issue 19).
#include <gtest/gtest.h>

#include "core/error.h"
#include "evaluators/quant/depthwise_speed.h"
#include "predictors/filling_lut_predictor.h"
#include "profilers/backend.h"
#include "profilers/device_profile.h"
#include "profilers/latency_table.h"
#include "profilers/local_backend.h"
#include "results/search_problem.h"
#include "tests/support/skip_without_int8.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

// Adds `device` (this host's profile at `precision`) to `t`, with the one row that opening its
// predictor needs.
void add_device(LatencyTable& t, const std::string& device, const std::string& precision) {
  t.ensure_device(host_device_profile(device, 2, 1, precision));
  const LatencyRow row{"evit_ffn:c=32,h=8,w=8,mlp=2", summarize_ms({0.01}), ""};
  t.insert(device, t.begin_run(device, "local", TimingConfig{}), {row});
}

// A run on elasticvit-fmnist over table `db`, on latency and MACs only: no supernet needed.
RunConfig table_run(const std::string& db, const std::string& device,
                    const std::string& precision) {
  RunConfig c;
  c.space = "elasticvit-fmnist";
  c.objectives = "latency,macs";
  c.db = db;
  c.device = device;
  c.profile_missing = false;
  c.precision = precision;
  return c;
}

TEST(SearchProblem, Int8DwfasterSearchTakesItsTablesDepthwiseTimings) {
  const std::string db = test::make_temp_dir("problem-dwfaster") + "/t.db";
  const char* shape = "c=5,k=3,s=1,p=1,act=0,h=3,w=3";
  {
    LatencyTable t(db, LatencyTable::Mode::read_write);
    add_device(t, "host-int8-dwfaster", "int8-dwfaster");
    // Timings no real 3x3x5 layer takes (ms, not us): only the table can have put them there.
    t.set_calibration("host-int8-dwfaster", kKernelChoices,
                      {{shape, {{"fp32_ms", 3.0}, {"int8_ms", 7.0}}}});
  }
  RunConfig c = table_run(db, "host-int8-dwfaster", "int8");
  { SearchProblem plain(c, "", false, nullptr); }  // plain int8 does not take the timings
  EXPECT_FALSE(depthwise_speeds_json().contains(shape));
  c.precision = "int8-dwfaster";
  SearchProblem problem(c, "", false, nullptr);
  const nlohmann::json speeds = depthwise_speeds_json();
  ASSERT_TRUE(speeds.contains(shape)) << speeds.dump();
  EXPECT_EQ(speeds.at(shape).at("fp32_ms"), 3.0);
  EXPECT_EQ(speeds.at(shape).at("int8_ms"), 7.0);
}

// A mixed-dwfaster search prices its int8 stages with the int8 twin DEVICE-int8-dwfaster and
// takes that twin's timings.
TEST(SearchProblem, MixedDwfasterSearchTakesItsInt8TwinsDepthwiseTimings) {
  const std::string db = test::make_temp_dir("problem-mixed-dwfaster") + "/t.db";
  const char* shape = "c=6,k=3,s=1,p=1,act=0,h=3,w=3";
  {
    LatencyTable t(db, LatencyTable::Mode::read_write);
    add_device(t, "host", "fp32");
    add_device(t, "host-int8-dwfaster", "int8-dwfaster");
    t.set_calibration("host-int8-dwfaster", kKernelChoices,
                      {{shape, {{"fp32_ms", 4.0}, {"int8_ms", 9.0}}}});
  }
  const RunConfig c = table_run(db, "host", "mixed-dwfaster");
  SearchProblem problem(c, "", false, nullptr);
  EXPECT_EQ(depthwise_speeds_json().at(shape).at("int8_ms"), 9.0);
  EXPECT_EQ(c.search_space(), "elasticvit-fmnist+precision");
}

// search --fill measures the rows a candidate lacks on an int8-dwfaster device with the
// timings already stored there, and stores what it adds: after the stored timings are doctored
// (int8 x1000, which no fresh timing gives), a second fill keeps them.
TEST(SearchProblem, FillingAnInt8DwfasterTableFollowsItsStoredTimings) {
  HWNAS_SKIP_WITHOUT_INT8();
  const std::string db = test::make_temp_dir("fill-dwfaster") + "/t.db";
  const std::string device = "host-int8-dwfaster";
  const std::vector<BlockSpec> block = {
      BlockSpec::parse("evit_mbconv:cin=16,c=16,h=32,w=32,expand=1,k=3,stride=1,se=0")};
  const TimingConfig quick{.warmup = 1, .min_repeats = 3, .min_time_ms = 1.0};
  const auto backend = std::make_shared<LocalBackend>(1, 1, 0, BlockTiming::hot, "int8-dwfaster");
  make_table_filler(db, device, backend, quick)(block);
  nlohmann::json doctored;
  {
    LatencyTable t(db, LatencyTable::Mode::read_write);
    const auto stored = t.calibration(device, kKernelChoices);
    ASSERT_TRUE(stored && stored->is_object() && !stored->empty());
    doctored = *stored;
    for (auto& [shape, v] : doctored.items()) v["int8_ms"] = 1000 * v["int8_ms"].get<double>();
    t.set_calibration(device, kKernelChoices, doctored);
  }
  make_table_filler(db, device, backend, quick)(block);
  EXPECT_EQ(*LatencyTable(db, LatencyTable::Mode::read_only).calibration(device, kKernelChoices),
            doctored);
}

// The export and the held-out re-scoring take the same timings, and refuse by name to guess
// them where the run's table is not found.
TEST(SearchProblem, ARunsDepthwiseTimingsNeedItsTable) {
  RunConfig c;
  c.precision = "int8-dwfaster";
  c.db = test::make_temp_dir("problem-no-table") + "/missing.db";
  try {
    adopt_run_depthwise_choices(c);
    ADD_FAILURE() << "a missing table was not refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.db"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("run this where the search ran"), std::string::npos);
  }
  c.precision = "int8";  // all-int8 plans time nothing: no table needed
  EXPECT_NO_THROW(adopt_run_depthwise_choices(c));
}

}  // namespace
}  // namespace hwnas
