// `mpirun -n N hwnas eval` and `hwnas profile` against one process: the same top-1, top-5 and
// predictions file, bit for bit (the split is cut in whole batches); the same table rows on the
// deterministic fake device; a rank of another device stops the job before any row; and a job
// that loses a rank keeps the rows it stored, which a profile on another rank count completes.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/error.h"
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

// The rows of the one device a table holds (none while the table does not exist yet).
std::vector<std::string> device_rows(const std::string& db) {
  try {
    const auto devices = LatencyTable(db, LatencyTable::Mode::read_only).devices();
    return devices.size() == 1 ? rows_of(db, devices[0].name) : std::vector<std::string>{};
  } catch (const Error&) {
    return {};
  }
}

// A worker SIGKILLed while the engine times the table's blocks (Open MPI then ends the job): the
// rows stored before the kill stay as they were, and the same command on another rank count
// measures only the rest.
TEST(MpiProfile, AJobThatLosesARankKeepsItsRowsAndAnotherRankCountFinishesTheTable) {
  const std::string dir = test::make_temp_dir("hwnas-mpi-profile-kill");
  const std::string db = dir + "/t.db";
  const std::string args =
      "profile --space efficientformer-fmnist --resolution 64 --threads 1 "
      "--windows 1 --block-timing hot --json --db " +
      db;
  std::thread job([&] { test::run_hwnas(3, args); });
  std::size_t at_kill = 0;
  for (int i = 0; i < 3000 && at_kill == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::size_t n = device_rows(db).size();
    if (n < 4) continue;
    const int pid = test::hwnas_pid(2, db);
    if (pid > 0 && ::kill(pid, SIGKILL) == 0) at_kill = n;
  }
  job.join();
  ASSERT_GT(at_kill, 0u) << "the victim was never found running";
  const auto kept = device_rows(db);
  ASSERT_LT(kept.size(), 51u) << "the job finished before the kill: nothing was tested";
  const auto r = test::run_hwnas(2, args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto all = device_rows(db);
  EXPECT_EQ(all.size(), 51u);
  for (const auto& row : kept)
    EXPECT_NE(std::find(all.begin(), all.end(), row), all.end()) << "changed or lost: " << row;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["blocks_skipped"].get<std::size_t>(), kept.size()) << r.out;
  EXPECT_EQ(j["blocks_measured"].get<std::size_t>(), 51u - kept.size()) << r.out;
  std::cout << "[ kill     ] profile: " << kept.size() << " of 51 rows stored when rank 2 was "
            << "killed; the 2-rank rerun measured the other " << 51 - kept.size() << "\n";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hwnas
