// Profiler with the fake backend: complete tables, resume after a failure, --force, overhead.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "evaluators/quant/int8_gemm.h"
#include "profilers/fake_backend.h"
#include "profilers/host_table.h"
#include "profilers/local_backend.h"
#include "profilers/profile_run.h"
#include "profilers/profiler.h"
#include "spaces/registry.h"
#include "tests/support/forwarding_backend.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

const SearchSpace& ef() { return get_space("efficientformer"); }

ProfileOptions quiet(const std::string& device = "fake0") {
  ProfileOptions o;
  o.device_name = device;
  o.overhead_networks = 3;
  return o;
}

TEST(Profiler, WholeSpaceTableHoldsEveryBlockWithFakeMedians) {
  const std::string path = test::make_temp_dir("prof") + "/t.db";
  LatencyTable table(path, LatencyTable::Mode::read_write);
  FakeBackend fake;
  const auto rep = profile_space(ef(), 224, table, fake, quiet());
  const auto blocks = ef().enumerate_blocks(224);
  EXPECT_EQ(rep.blocks_total, static_cast<int>(blocks.size()));
  EXPECT_EQ(rep.blocks_measured, rep.blocks_total);
  EXPECT_EQ(rep.blocks_skipped, 0);
  const auto rows = table.rows("fake0");
  ASSERT_EQ(rows.size(), blocks.size());
  for (const auto& r : rows)
    EXPECT_DOUBLE_EQ(r.stats.median_ms, fake.block_ms(BlockSpec::parse(r.key))) << r.key;
  EXPECT_EQ(table.find_device("fake0")->runtime, "hwnas-fake 1");
}

TEST(Profiler, OverheadIsMedianResidualOfWholeNetworks) {
  const std::string path = test::make_temp_dir("prof") + "/t.db";
  LatencyTable table(path, LatencyTable::Mode::read_write);
  FakeBackendOptions fo;
  fo.overhead_ms = 0.2;
  FakeBackend fake(fo);
  ProfileOptions o = quiet();
  o.seed = 11;
  const auto rep = profile_space(ef(), 224, table, fake, o);
  // By hand: residual of net = overhead + sum_i (bias_i * t_i + per_block); take the median.
  Rng rng(11);
  std::vector<double> res;
  for (int i = 0; i < 3; ++i) {
    const Network net = ef().decode(sample_at_resolution(ef(), rng, 224));
    double r = fo.overhead_ms;
    for (const auto& b : net.blocks)
      r +=
          fake.block_ms(b) * (b.kind == BlockKind::meta3d ? fo.meta3d_bias : 0.0) + fo.per_block_ms;
    res.push_back(r);
  }
  std::sort(res.begin(), res.end());
  ASSERT_TRUE(rep.overhead_ms.has_value());
  EXPECT_NEAR(*rep.overhead_ms, res[1], 1e-9);
  EXPECT_NEAR((*table.calibration("fake0", "overhead"))["ms"].get<double>(), res[1], 1e-9);
}

// The fake device, but its end-to-end timing fails: the state a kill leaves between a run's
// last committed rows and its overhead calibration.
// Killed after its rows: the reference networks are timed with the rows, one at a time; the
// overhead networks after them, together.
class DiesBeforeOverhead final : public test::ForwardingBackend {
 public:
  DiesBeforeOverhead() : ForwardingBackend(fake) {}
  std::vector<TimingStats> measure_networks(const std::vector<Network>& nets,
                                            const TimingConfig& timing, int windows) override {
    if (nets.size() > 1) throw Error("killed before the overhead");
    return fake.measure_networks(nets, timing, windows);
  }
  FakeBackend fake;
};

TEST(Profiler, RerunAfterAKillBeforeTheOverheadComputesIt) {
  const SearchSpace& ev = get_space("elasticvit");
  const std::string dir = test::make_temp_dir("prof");
  // Uninterrupted: EfficientFormer, then ElasticViT; the overhead is ElasticViT's networks'.
  LatencyTable ref(dir + "/ref.db", LatencyTable::Mode::read_write);
  FakeBackend fake;
  profile_space(ef(), 224, ref, fake, quiet());
  profile_space(ev, 224, ref, fake, quiet());
  const auto want = ref.calibration("fake0", "overhead");
  ASSERT_TRUE(want);

  // Interrupted after ElasticViT's rows, then both commands run again (nothing to measure).
  LatencyTable t(dir + "/t.db", LatencyTable::Mode::read_write);
  profile_space(ef(), 224, t, fake, quiet());
  DiesBeforeOverhead dying;
  EXPECT_THROW(profile_space(ev, 224, t, dying, quiet()), Error);
  profile_space(ef(), 224, t, fake, quiet());  // not its calibration to redo
  const auto rep = profile_space(ev, 224, t, fake, quiet());
  EXPECT_EQ(rep.blocks_measured, 0);
  EXPECT_EQ(t.calibration("fake0", "overhead"), want);
  // Done: a further rerun measures nothing and keeps it.
  profile_space(ef(), 224, t, fake, quiet());
  EXPECT_EQ(t.calibration("fake0", "overhead"), want);
}

TEST(Profiler, RerunAfterAKillBeforeTheReferenceTimesIt) {
  // The reference network's calibration is written after the last rows; a SIGKILL between the
  // two (found by tests/crash) left a table that no rerun completed.
  const std::string dir = test::make_temp_dir("prof");
  const std::string path = dir + "/t.db";
  FakeBackend fake;
  std::optional<nlohmann::json> want;
  {
    LatencyTable t(path, LatencyTable::Mode::read_write);
    profile_space(ef(), 224, t, fake, quiet());
    want = t.calibration("fake0", "reference:efficientformer");
    ASSERT_TRUE(want);
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "DELETE FROM calibrations WHERE name IN ('reference:efficientformer', "
                         "'space_reference:efficientformer@224')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_EQ(sqlite3_changes(raw), 2);
  sqlite3_close(raw);
  LatencyTable t(path, LatencyTable::Mode::read_write);
  ASSERT_FALSE(t.calibration("fake0", "reference:efficientformer"));
  const auto rep = profile_space(ef(), 224, t, fake, quiet());
  EXPECT_EQ(rep.blocks_measured, 0);
  const auto got = t.calibration("fake0", "reference:efficientformer");
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)["ms"], (*want)["ms"]);  // the fake device's constant reference
  EXPECT_EQ((*got)["network"], (*want)["network"]);
  // The space's own reference, also written after the rows, is timed again too, as many times
  // as a whole table times it.
  const auto own = stored_space_reference(t, "fake0", ef(), 224);
  EXPECT_EQ((*t.calibration("fake0", "space_reference:efficientformer@224"))["window_ms"].size(),
            8u);
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->arch, space_reference_arch(ef(), 224));
  EXPECT_NEAR(own->ms, fake.network_ms(ef().decode(own->arch)), 1e-9);
  // Complete again: a further rerun times nothing more.
  profile_space(ef(), 224, t, fake, quiet());
  EXPECT_EQ(t.calibration("fake0", "reference:efficientformer"), got);
}

TEST(Profiler, ADamagedSpaceReferenceNamesTheTableAndTheFix) {
  const std::string path = test::make_temp_dir("prof") + "/t.db";
  FakeBackend fake;
  LatencyTable t(path, LatencyTable::Mode::read_write);
  profile_space(ef(), 224, t, fake, quiet());
  const std::string key = "space_reference:efficientformer@224";
  const nlohmann::json good = *t.calibration("fake0", key);
  // An arch the space rejects, a missing time and a non-positive time are each refused.
  nlohmann::json bad_arch = good;
  bad_arch["arch"]["depths"] = {99, 99, 99, 99};
  nlohmann::json no_ms = good;
  no_ms.erase("ms");
  nlohmann::json zero_ms = good;
  zero_ms["ms"] = 0.0;
  for (const auto& bad : {bad_arch, no_ms, zero_ms}) {
    t.set_calibration("fake0", key, bad);
    try {
      stored_space_reference(t, "fake0", ef(), 224);
      ADD_FAILURE() << "accepted " << bad.dump();
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find(key), std::string::npos) << what;
      EXPECT_NE(what.find("--resolution 224 --force"), std::string::npos) << what;
    }
  }
  t.set_calibration("fake0", key, good);
  EXPECT_TRUE(stored_space_reference(t, "fake0", ef(), 224).has_value());
}

TEST(Profiler, TheSpaceReferenceIsATypicalSubnetAtTheTablesResolution) {
  for (const char* name : {"efficientformer", "elasticvit-fmnist", "turbovit"}) {
    const SearchSpace& space = get_space(name);
    const int res = default_resolution(space);
    const Arch a = space_reference_arch(space, res);
    EXPECT_EQ(a, space_reference_arch(space, res)) << name;  // deterministic
    space.validate(a);
    // Neither end of the space: the median of the draws lies strictly inside.
    const auto macs = space.decode(a).macs();
    EXPECT_GT(macs, space.decode(space.smallest()).macs()) << name;
    EXPECT_LT(macs, space.decode(largest_at_resolution(space, res)).macs()) << name;
    EXPECT_EQ(space_reference_key(name, res),
              std::string("space_reference:") + name + "@" + std::to_string(res));
  }
}

TEST(Profiler, LocalOverheadIsTheTimeOutsideTheBlocks) {
  // The engine backend sees block boundaries, so the stored overhead is measured directly:
  // one forward's time after its last block, not end-to-end minus the table's rows (which also
  // carries the rows' noise). It is structurally a small part of the forward.
  const SearchSpace& space = get_space("efficientformer-fmnist");
  LatencyTable table(test::make_temp_dir("prof-local") + "/t.db", LatencyTable::Mode::read_write);
  LocalBackend local(1);
  ProfileOptions o = quiet("local0");
  o.overhead_networks = 2;
  o.windows = 2;
  o.timing = TimingConfig{1, 6, 0.0};
  const ProfileReport rep =
      profile_archs(space, {space.resolve("s"), space.resolve("m")}, table, local, o);
  const auto cal = table.calibration("local0", "overhead");
  ASSERT_TRUE(cal.has_value());
  EXPECT_NE((*cal)["method"].get<std::string>().find("block trace"), std::string::npos);
  ASSERT_EQ((*cal)["networks"].size(), 2u);
  std::vector<double> outside;
  for (const auto& n : (*cal)["networks"]) {
    const double ms = n.at("outside_blocks_ms").get<double>();
    EXPECT_GE(ms, 0.0);
    EXPECT_LT(ms, 0.5 * n.at("e2e_ms").get<double>());
    outside.push_back(ms);
  }
  ASSERT_TRUE(rep.overhead_ms.has_value());
  EXPECT_NEAR(*rep.overhead_ms, 0.5 * (outside[0] + outside[1]), 1e-12);
}

TEST(Profiler, KilledRunKeepsFinishedBatchesAndResumes) {
  const std::string path = test::make_temp_dir("prof") + "/t.db";
  const auto blocks = ef().enumerate_blocks(224);
  {
    LatencyTable table(path, LatencyTable::Mode::read_write);
    FakeBackendOptions fo;
    // Batches of 8 blocks, each timed in 3 windows (24 block timings per batch): two batches
    // commit, the third dies in its first window.
    fo.fail_after_blocks = 60;
    FakeBackend dying(fo);
    EXPECT_ANY_THROW(profile_space(ef(), 224, table, dying, quiet()));
    EXPECT_EQ(table.keys("fake0").size(), 16u);
  }
  LatencyTable table(path, LatencyTable::Mode::read_write);
  FakeBackend fake;
  const auto rep = profile_space(ef(), 224, table, fake, quiet());
  EXPECT_EQ(rep.blocks_skipped, 16);
  EXPECT_EQ(rep.blocks_measured, static_cast<int>(blocks.size()) - 16);
  EXPECT_EQ(fake.blocks_measured(), 3 * (static_cast<long>(blocks.size()) - 16));
  EXPECT_EQ(table.keys("fake0").size(), blocks.size());

  // A complete table is not measured again; --force measures everything.
  FakeBackend again;
  EXPECT_EQ(profile_space(ef(), 224, table, again, quiet()).blocks_measured, 0);
  EXPECT_EQ(again.blocks_measured(), 0);
  ProfileOptions force = quiet();
  force.force = true;
  EXPECT_EQ(profile_space(ef(), 224, table, again, force).blocks_measured,
            static_cast<int>(blocks.size()));
}

TEST(Profiler, NoisyRowsAreMeasuredAgain) {
  const std::string path = test::make_temp_dir("prof") + "/t.db";
  LatencyTable table(path, LatencyTable::Mode::read_write);
  FakeBackend fake;  // spread (1.03 - 0.98) / 1 = 0.05 on every row
  ProfileOptions o = quiet();
  o.noisy_retries = 2;
  o.max_spread = 0.10;  // nothing is noisy
  const auto archs = std::vector<Arch>{ef().resolve("l1")};
  EXPECT_EQ(profile_archs(ef(), archs, table, fake, o).blocks_remeasured, 0);
  o.max_spread = 0.04;  // every row is noisy; equal spreads keep the stored rows
  const auto rep = profile_archs(ef(), archs, table, fake, o);
  std::unordered_set<std::string> keys;
  for (const auto& b : ef().decode(archs[0]).blocks) keys.insert(b.key());
  EXPECT_EQ(rep.blocks_remeasured, 2 * static_cast<int>(keys.size()));
  // First pass: 3 windows per row; then two single-window retries per row.
  EXPECT_EQ(fake.blocks_measured(), static_cast<long>(keys.size()) * (3 + 2));
}

TEST(Profiler, ArchListProfilesOnlyTheirBlocks) {
  const std::string path = test::make_temp_dir("prof") + "/t.db";
  LatencyTable table(path, LatencyTable::Mode::read_write);
  FakeBackend fake;
  const std::vector<Arch> archs = {ef().resolve("l1"), ef().resolve("l3")};
  profile_archs(ef(), archs, table, fake, quiet());
  std::unordered_set<std::string> expected;
  for (const auto& a : archs)
    for (const auto& b : ef().decode(a).blocks) expected.insert(b.key());
  EXPECT_EQ(table.keys("fake0"), expected);
}

TEST(Profiler, SparseProgressWhenNotATerminal) {
  const std::string path = test::make_temp_dir("prof") + "/t.db";
  LatencyTable table(path, LatencyTable::Mode::read_write);
  FakeBackend fake;
  std::ostringstream log;
  ProfileOptions o = quiet();
  o.progress = &log;
  profile_space(ef(), 224, table, fake, o);
  const std::string s = log.str();
  const auto lines = std::count(s.begin(), s.end(), '\n');
  EXPECT_GE(lines, 5);
  EXPECT_LE(lines, 12);
  EXPECT_EQ(s.find('\r'), std::string::npos);
  EXPECT_NE(s.find("ETA"), std::string::npos);
}

TEST(Profiler, ReadsArchsJsonLines) {
  const std::string dir = test::make_temp_dir("prof");
  {
    std::ofstream f(dir + "/a.jsonl");
    f << ef().to_json(ef().resolve("l1")).dump() << "\n\n"
      << nlohmann::json{{"arch", ef().to_json(ef().resolve("l7"))}}.dump() << "\n";
    std::ofstream g(dir + "/bad.jsonl");
    g << ef().to_json(ef().resolve("l1")).dump() << "\n{not json\n";
  }
  const auto archs = read_archs_jsonl(ef(), dir + "/a.jsonl");
  ASSERT_EQ(archs.size(), 2u);
  EXPECT_EQ(archs[1], ef().resolve("l7"));
  try {
    read_archs_jsonl(ef(), dir + "/bad.jsonl");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:2"), std::string::npos) << e.what();
  }
}

// A profile this host cannot time is refused before the table file is created, so a refused
// run leaves nothing behind: an unknown precision anywhere, and int8 (through `hwnas profile`'s
// path and search's first-use profile) on a CPU without AVX2, VNNI or AMX.
// Before, the block-timing probe opened the table first and an empty file stayed.
TEST(Profiler, APrecisionTheHostCannotTimeIsRefusedBeforeTheTableFileExists) {
  const std::string dir = test::make_temp_dir("refused-precision");
  std::vector<std::string> refused{"int9"};
  if (!int8_supported()) refused.push_back("int8");
  for (const std::string& precision : refused) {
    ProfileRunConfig c;
    c.space = "efficientformer-fmnist";
    c.db = dir + "/" + precision + ".db";
    c.precision = precision;
    c.block_timing = "auto";
    EXPECT_THROW(run_profile(c), Error) << precision;
    EXPECT_FALSE(std::filesystem::exists(c.db)) << precision;
  }
  if (!int8_supported()) {
    const std::string db = dir + "/first-use.db";
    EXPECT_THROW(
        profile_host_table(db, "host-int8", get_space("efficientformer-fmnist"), nullptr, "int8"),
        Error);
    EXPECT_FALSE(std::filesystem::exists(db));
  }
}

}  // namespace
}  // namespace hwnas
