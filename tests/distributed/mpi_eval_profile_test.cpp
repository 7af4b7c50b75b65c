// `mpirun -n N hwnas eval` and `hwnas profile` against one process: the same top-1, top-5 and
// predictions file, bit for bit (the split is cut in whole batches); the same table rows on the
// deterministic fake device; and a rank of another device stops the job before any row.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "profilers/latency_table.h"
#include "tests/distributed/mpi_support.h"

namespace hwnas {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(MpiEval, TopOneTopFiveAndPredictionsAreTheOneProcessResult) {
  const std::string dir = test::make_temp_dir("hwnas-mpi-eval");
  // 1000 images in 16 batches of 64; and 100 in 2 batches, fewer than 3 ranks (one part empty).
  for (const int samples : {1000, 100}) {
    const std::string args =
        "eval --space efficientformer-fmnist --arch m --weights " HWNAS_SOURCE_DIR
        "/data/supernets/efficientformer-fmnist.safetensors --split test --threads 1 --json "
        "--samples " +
        std::to_string(samples) + " --predictions " + dir + "/p";
    const auto one = test::run_hwnas(0, args + "0.npy");
    ASSERT_EQ(one.exit_code, 0) << one.err;
    const auto want = nlohmann::json::parse(one.out);
    EXPECT_EQ(want["samples"], samples);
    for (int ranks : {2, 3}) {
      const std::string tag = std::to_string(ranks) + ".npy";
      const auto r = test::run_hwnas(ranks, args + tag);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      const auto got = nlohmann::json::parse(r.out);  // rank 0 alone prints
      EXPECT_EQ(got["ranks"], ranks);
      for (const char* key : {"samples", "top1", "top5", "dataset"})
        EXPECT_EQ(got[key], want[key]) << key << ", " << ranks << " ranks, " << samples;
      EXPECT_EQ(slurp(dir + "/p" + tag), slurp(dir + "/p0.npy")) << ranks << " ranks";
    }
  }
  fs::remove_all(dir);
}

// Every row's key and statistics, in key order.
std::vector<std::string> rows_of(const std::string& db, const std::string& device) {
  std::vector<std::string> out;
  for (const auto& r : LatencyTable(db, LatencyTable::Mode::read_only).rows(device))
    out.push_back(r.key + " " + std::to_string(r.stats.median_ms) + " " +
                  std::to_string(r.stats.p10_ms) + " " + std::to_string(r.stats.p90_ms) + " " +
                  std::to_string(r.stats.repeats));
  return out;
}

TEST(MpiProfile, FakeDeviceRowsAreTheOneProcessRowsAndAnotherDeviceIsRefused) {
  const std::string dir = test::make_temp_dir("hwnas-mpi-profile");
  const std::string args =
      "profile --space efficientformer-fmnist --resolution 64 --backend fake --json --db " + dir;
  const auto one = test::run_hwnas(0, args + "/one.db");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const auto want = rows_of(dir + "/one.db", "fake");
  ASSERT_EQ(want.size(), 51u);
  for (int ranks : {2, 3}) {
    const std::string db = dir + "/r" + std::to_string(ranks) + ".db";
    const auto r = test::run_hwnas(ranks, args + "/r" + std::to_string(ranks) + ".db");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["ranks"], ranks);
    EXPECT_EQ(rows_of(db, "fake"), want) << ranks << " ranks";
    // Every block timed once per window (3 by default), by the workers, each taking a share.
    std::size_t total = 0;
    ASSERT_EQ(j["block_timings_per_worker_rank"].size(), static_cast<std::size_t>(ranks - 1));
    for (const auto& n : j["block_timings_per_worker_rank"]) {
      EXPECT_GT(n.get<std::size_t>(), 0u);
      total += n.get<std::size_t>();
    }
    EXPECT_EQ(total, 51u * 3);
  }
  // Rank 0 with 2 threads, the workers with 1: another device, named, and no table written.
  const auto mixed =
      test::run_hwnas_mpmd(args + "/mixed.db --threads 2", 2, args + "/mixed.db --threads 1");
  EXPECT_NE(mixed.exit_code, 0);
  EXPECT_NE(mixed.err.find("is another device than rank 0 (threads: 1 vs 2)"), std::string::npos)
      << mixed.err;
  EXPECT_FALSE(fs::exists(dir + "/mixed.db"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hwnas
