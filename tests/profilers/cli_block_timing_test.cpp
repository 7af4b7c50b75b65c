// `hwnas profile --block-timing auto` on the real engine, under faked cache reports: the choice of
// row variant must come from timing, so a VM that reports a 480 MiB last-level cache (issue 15:
// ElasticViT's default table came out 27 % low) and one that reports 1 MiB both take the variant
// their own timing favours.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/rng.h"
#include "profilers/latency_table.h"
#include "profilers/profiler.h"
#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

std::string fake_cache_dir(const std::string& llc_size) {
  const std::string dir = test::make_temp_dir("llc");
  std::filesystem::create_directories(dir + "/index3");
  std::ofstream(dir + "/index3/level") << "3\n";
  std::ofstream(dir + "/index3/type") << "Unified\n";
  std::ofstream(dir + "/index3/size") << llc_size << "\n";
  return dir;
}

// The stored choice after profiling three ElasticViT networks at 224 (the first three probe
// networks of `hwnas profile --space elasticvit`: the largest and two drawn with seed 0) under a
// faked cache report.
nlohmann::json profile_probe_networks(const std::string& llc_size) {
  const SearchSpace& space = get_space("elasticvit");
  const std::string dir = test::make_temp_dir("cli-bt");
  {
    std::ofstream archs(dir + "/archs.jsonl");
    archs << space.to_json(largest_at_resolution(space, 224)).dump() << "\n";
    Rng rng(0);
    for (int i = 0; i < 2; ++i)
      archs << space.to_json(sample_at_resolution(space, rng, 224)).dump() << "\n";
  }
  // The probe times rows as the table does: 3 windows of 20 ms per block (a third of the
  // default), enough for the 10-25 % between the variants. One engine thread: with two, any
  // process on the other core of a 2-core host stalls the spinning pool (over 300 s beside a
  // fuzzer, 53 s idle); with one, 89 s beside a fuzzer and a TSan test.
  const auto r = test::run_command(
      "HWNAS_CPU_CACHE_DIR=" + fake_cache_dir(llc_size) + " " + HWNAS_BIN +
      " profile --space elasticvit --archs " + dir + "/archs.jsonl --db " + dir +
      "/t.db --threads 1 --overhead-networks 0 --windows 3 --warmup 3 --min-repeats 9 "
      "--min-time-ms 60 --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("probe networks"), std::string::npos) << r.err;
  LatencyTable table(dir + "/t.db", LatencyTable::Mode::read_only);
  const auto c = table.calibration("host", "block_timing:elasticvit");
  EXPECT_TRUE(c.has_value());
  return c ? *c : nlohmann::json{};
}

TEST(BlockTimingCli, AutoChoiceIgnoresTheReportedCacheSize) {
  const nlohmann::json huge = profile_probe_networks("491520K");  // the Xeon VM of issue 15
  const nlohmann::json tiny = profile_probe_networks("1024K");
  ASSERT_TRUE(huge.is_object() && tiny.is_object());
  EXPECT_EQ(huge.at("reported_llc_bytes"), 480LL << 20);
  EXPECT_EQ(tiny.at("reported_llc_bytes"), 1LL << 20);
  // Each run's choice is the one its own measurements make (the variant with the smaller
  // block_sum_error against the end-to-end times), whatever the cache report said. Comparing the
  // two runs' modes instead would test the host's repeatability: on a loaded 2-core host the two
  // runs measured hot / cold errors of 0.73 / 0.41 and 0.52 / 0.62 (CI, 2026-12-04).
  for (const nlohmann::json* c : {&huge, &tiny}) {
    const bool hot = c->at("hot_error").get<double>() < c->at("cold_error").get<double>();
    EXPECT_EQ(c->at("mode"), hot ? "hot" : "cold-weights") << c->dump();
  }
  // The old rule (hot when the weights fit half the reported cache) would have chosen hot under
  // the huge report: ElasticViT's largest network holds far less than 240 MiB of weights.
  const SearchSpace& space = get_space("elasticvit");
  EXPECT_LT(4 * space.decode(largest_at_resolution(space, 224)).params(), 240LL << 20);
}

}  // namespace
}  // namespace hwnas
