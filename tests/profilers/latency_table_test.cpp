// LatencyTable: round trip, schema errors, atomic batches, device identity.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <fstream>

#include "core/error.h"
#include "profilers/latency_table.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

using test::error_of;

DeviceProfile profile(const std::string& name = "dev", int threads = 2) {
  DeviceProfile p;
  p.name = name;
  p.cpu_model = "Test CPU";
  p.logical_cores = 4;
  p.threads = threads;
  p.runtime = "hwnas-engine 0.1.0 (git abc)";
  p.precision = "fp32";
  p.batch = 1;
  return p;
}

LatencyRow row(const std::string& key, double median) {
  LatencyRow r;
  r.key = key;
  r.stats.median_ms = median;
  r.stats.p10_ms = median * 0.9;
  r.stats.p90_ms = median * 1.1;
  r.stats.mean_ms = median * 1.01;
  r.stats.std_ms = median * 0.05;
  r.stats.repeats = 17;
  return r;
}

void raw_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

TEST(LatencyTable, RoundTrip) {
  const std::string path = test::make_temp_dir("lt") + "/t.db";
  {
    LatencyTable t(path, LatencyTable::Mode::read_write);
    t.ensure_device(profile());
    const auto run = t.begin_run("dev", "fake", TimingConfig{});
    t.insert("dev", run,
             {row("stem:cin=3,c=48,h=224,w=224", 0.5), row("flatten:c=448,h=7,w=7", 0.001)});
    t.set_calibration("dev", "overhead", {{"ms", 0.25}});
  }
  LatencyTable t(path, LatencyTable::Mode::read_only);
  ASSERT_EQ(t.devices().size(), 1u);
  EXPECT_EQ(t.devices()[0], profile());
  const auto rows = t.rows("dev");
  ASSERT_EQ(rows.size(), 2u);
  // Ordered by key: "flatten..." < "stem...".
  EXPECT_EQ(rows[0].key, "flatten:c=448,h=7,w=7");
  EXPECT_DOUBLE_EQ(rows[0].stats.median_ms, 0.001);
  EXPECT_EQ(rows[1].key, "stem:cin=3,c=48,h=224,w=224");
  EXPECT_DOUBLE_EQ(rows[1].stats.median_ms, 0.5);
  EXPECT_DOUBLE_EQ(rows[1].stats.p10_ms, 0.45);
  EXPECT_DOUBLE_EQ(rows[1].stats.p90_ms, 0.55);
  EXPECT_DOUBLE_EQ(rows[1].stats.mean_ms, 0.505);
  EXPECT_DOUBLE_EQ(rows[1].stats.std_ms, 0.025);
  EXPECT_EQ(rows[1].stats.repeats, 17);
  EXPECT_EQ(rows[1].measured_at.size(), 20u);  // YYYY-MM-DDTHH:MM:SSZ
  EXPECT_EQ(t.keys("dev").size(), 2u);
  EXPECT_TRUE(t.keys("nobody").empty());
  EXPECT_DOUBLE_EQ((*t.calibration("dev", "overhead"))["ms"].get<double>(), 0.25);
  EXPECT_FALSE(t.calibration("dev", "correction").has_value());
}

TEST(LatencyTable, RowsKeepTheirTimingConditions) {
  const std::string path = test::make_temp_dir("lt") + "/t.db";
  {
    LatencyTable t(path, LatencyTable::Mode::read_write);
    t.ensure_device(profile());
    LatencyRow r = row("flatten:c=448,h=7,w=7", 0.001);
    r.stats.conditions = {300.5, 290.25, 4.5, 3, 3, 1, 12.75};
    t.insert("dev", t.begin_run("dev", "local", TimingConfig{}),
             {r, row("stem:cin=3,c=48,h=224,w=224", 0.5)});
  }
  const auto rows = LatencyTable(path, LatencyTable::Mode::read_only).rows("dev");
  const TimingConditions& c = rows[0].stats.conditions;
  EXPECT_DOUBLE_EQ(c.wall_ms, 300.5);
  EXPECT_DOUBLE_EQ(c.thread_cpu_ms, 290.25);
  EXPECT_DOUBLE_EQ(c.steal_ms, 4.5);
  EXPECT_EQ(c.max_running, 3);
  EXPECT_EQ(c.windows, 3);
  EXPECT_EQ(c.retimed, 1);
  EXPECT_DOUBLE_EQ(c.workers_wait_ms, 12.75);
  EXPECT_EQ(rows[1].stats.conditions.windows, 0);  // not given: stored as unknown
}

TEST(LatencyTable, SchemaOneFileIsReadAndMigrated) {
  // A schema-1 file as hwnas wrote it before issue 15: this build's file with the condition
  // columns dropped and the version set back.
  const std::string path = test::make_temp_dir("lt") + "/v1.db";
  {
    LatencyTable t(path, LatencyTable::Mode::read_write);
    t.ensure_device(profile());
    t.insert("dev", t.begin_run("dev", "fake", TimingConfig{}),
             {row("flatten:c=448,h=7,w=7", 0.25)});
  }
  raw_sql(
      path,
      "ALTER TABLE latencies DROP COLUMN wall_ms; ALTER TABLE latencies DROP COLUMN "
      "thread_cpu_ms; ALTER TABLE latencies DROP COLUMN steal_ms; ALTER TABLE latencies DROP "
      "COLUMN max_running; ALTER TABLE latencies DROP COLUMN windows; ALTER TABLE latencies "
      "DROP COLUMN retimed; ALTER TABLE latencies DROP COLUMN origin; ALTER TABLE latencies "
      "DROP COLUMN predicted_by; ALTER TABLE latencies DROP COLUMN predicted_error; ALTER TABLE "
      "latencies DROP COLUMN workers_wait_ms; UPDATE meta SET value = '1' WHERE key = "
      "'schema_version'");
  {
    LatencyTable t(path, LatencyTable::Mode::read_only);  // read as it is, nothing written
    const auto rows = t.rows("dev");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_DOUBLE_EQ(rows[0].stats.median_ms, 0.25);
    EXPECT_EQ(rows[0].stats.conditions.windows, 0);
  }
  {
    LatencyTable t(path, LatencyTable::Mode::read_write);  // migrated to schema 4
    LatencyRow r = row("stem:cin=3,c=48,h=224,w=224", 0.5);
    r.stats.conditions = {100, 99, 0, 2, 3, 0, 1.5};
    t.insert("dev", t.begin_run("dev", "local", TimingConfig{}), {r});
  }
  const auto rows = LatencyTable(path, LatencyTable::Mode::read_only).rows("dev");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows[0].stats.median_ms, 0.25);  // the old row survives the migration
  EXPECT_EQ(rows[1].stats.conditions.windows, 3);
  EXPECT_DOUBLE_EQ(rows[1].stats.conditions.workers_wait_ms, 1.5);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &q, nullptr);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)), "4");
  sqlite3_finalize(q);
  sqlite3_close(db);
}

// A predicted row (few-shot table) as stored by insert_predicted, value `ms`.
LatencyRow predicted_row(const std::string& key, double ms) {
  LatencyRow r = row(key, ms);
  r.origin = RowOrigin::predicted;
  r.predicted_by = "few-shot test model";
  r.predicted_error = 0.07;
  return r;
}

TEST(LatencyTable, SchemaTwoFileReadsEveryRowAsMeasuredAndMigratesToFour) {
  const std::string path = test::make_temp_dir("lt") + "/v2.db";
  {
    LatencyTable t(path, LatencyTable::Mode::read_write);
    t.ensure_device(profile());
    t.insert("dev", t.begin_run("dev", "fake", TimingConfig{}),
             {row("flatten:c=448,h=7,w=7", 0.25)});
  }
  raw_sql(path,
          "ALTER TABLE latencies DROP COLUMN origin; ALTER TABLE latencies DROP COLUMN "
          "predicted_by; ALTER TABLE latencies DROP COLUMN predicted_error; ALTER TABLE latencies "
          "DROP COLUMN workers_wait_ms; UPDATE meta SET value = '2' WHERE key = 'schema_version'");
  {
    LatencyTable t(path, LatencyTable::Mode::read_only);
    const auto rows = t.rows("dev");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].origin, RowOrigin::measured);
    EXPECT_EQ(t.measured_keys("dev"), t.keys("dev"));
  }
  LatencyTable t(path, LatencyTable::Mode::read_write);
  t.insert_predicted("dev", {predicted_row("stem:cin=3,c=48,h=224,w=224", 0.5)}, "few_shot:x",
                     {{"model", "m"}});
  const auto rows = t.rows("dev");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].origin, RowOrigin::measured);  // the old row, migrated
  EXPECT_EQ(rows[1].origin, RowOrigin::predicted);
  EXPECT_EQ(t.measured_keys("dev"), (std::unordered_set<std::string>{"flatten:c=448,h=7,w=7"}));
}

TEST(LatencyTable, PredictedRowsNeverReplaceMeasuredOnesAndMeasurementsReplacePredictions) {
  const std::string path = test::make_temp_dir("lt") + "/p.db";
  LatencyTable t(path, LatencyTable::Mode::read_write);
  t.ensure_device(profile());
  const std::string a = "flatten:c=448,h=7,w=7", b = "stem:cin=3,c=48,h=224,w=224";
  t.insert("dev", t.begin_run("dev", "fake", TimingConfig{}), {row(a, 0.25)});
  t.insert_predicted("dev", {predicted_row(a, 9.0), predicted_row(b, 0.5)}, "few_shot:x",
                     {{"model", "m1"}});
  auto rows = t.rows("dev");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].key, a);
  EXPECT_EQ(rows[0].origin, RowOrigin::measured);
  EXPECT_DOUBLE_EQ(rows[0].stats.median_ms, 0.25);  // the measurement stays
  EXPECT_EQ(rows[1].origin, RowOrigin::predicted);
  EXPECT_DOUBLE_EQ(rows[1].stats.median_ms, 0.5);
  EXPECT_EQ(rows[1].predicted_by, "few-shot test model");
  EXPECT_DOUBLE_EQ(rows[1].predicted_error, 0.07);
  EXPECT_EQ(rows[1].stats.repeats, 0);
  EXPECT_EQ(t.calibration("dev", "few_shot:x")->at("model"), "m1");
  EXPECT_EQ(t.keys("dev").size(), 2u);
  EXPECT_EQ(t.measured_keys("dev"), (std::unordered_set<std::string>{a}));

  // A refit replaces the prediction; a measurement replaces it for good.
  t.insert_predicted("dev", {predicted_row(b, 0.6)}, "few_shot:x", {{"model", "m2"}});
  EXPECT_DOUBLE_EQ(t.rows("dev")[1].stats.median_ms, 0.6);
  t.insert("dev", t.begin_run("dev", "fake", TimingConfig{}), {row(b, 0.55)});
  rows = t.rows("dev");
  EXPECT_EQ(rows[1].origin, RowOrigin::measured);
  EXPECT_DOUBLE_EQ(rows[1].stats.median_ms, 0.55);
  EXPECT_TRUE(rows[1].predicted_by.empty());
  EXPECT_EQ(t.measured_keys("dev").size(), 2u);

  // Rows marked the other way are refused, and nothing of the batch is stored.
  const std::string c = "flatten:c=224,h=7,w=7";
  const std::string e1 = test::error_of([&] {
    t.insert_predicted("dev", {predicted_row(c, 1.0), row("flatten:c=96,h=7,w=7", 1.0)},
                       "few_shot:x", {{"model", "m3"}});
  });
  EXPECT_NE(e1.find("not marked predicted"), std::string::npos) << e1;
  EXPECT_EQ(t.keys("dev").count(c), 0u);
  EXPECT_EQ(t.calibration("dev", "few_shot:x")->at("model"), "m2");
  const std::string e2 = test::error_of(
      [&] { t.insert("dev", t.begin_run("dev", "fake", TimingConfig{}), {predicted_row(c, 1)}); });
  EXPECT_NE(e2.find("insert_predicted"), std::string::npos) << e2;
}

TEST(LatencyTable, UsesWalMode) {
  const std::string path = test::make_temp_dir("lt") + "/t.db";
  { LatencyTable t(path, LatencyTable::Mode::read_write); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(LatencyTable, MissingFileIsClearError) {
  const std::string path = test::make_temp_dir("lt") + "/absent.db";
  const auto msg = error_of([&] { LatencyTable t(path, LatencyTable::Mode::read_only); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("hwnas profile"), std::string::npos) << msg;
}

TEST(LatencyTable, NotADatabaseIsClearError) {
  const std::string path = test::make_temp_dir("lt") + "/junk.db";
  std::ofstream(path) << "this is not sqlite at all, just some text long enough to be a header\n";
  for (auto mode : {LatencyTable::Mode::read_only, LatencyTable::Mode::read_write}) {
    const auto msg = error_of([&] { LatencyTable t(path, mode); });
    EXPECT_NE(msg.find("not an hwnas latency table"), std::string::npos) << msg;
  }
}

TEST(LatencyTable, ForeignSqliteIsClearError) {
  const std::string path = test::make_temp_dir("lt") + "/other.db";
  raw_sql(path, "CREATE TABLE people(name TEXT)");
  const auto msg = error_of([&] { LatencyTable t(path, LatencyTable::Mode::read_write); });
  EXPECT_NE(msg.find("not an hwnas latency table"), std::string::npos) << msg;
}

TEST(LatencyTable, NewerSchemaIsClearError) {
  const std::string path = test::make_temp_dir("lt") + "/new.db";
  { LatencyTable t(path, LatencyTable::Mode::read_write); }
  raw_sql(path, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  const auto msg = error_of([&] { LatencyTable t(path, LatencyTable::Mode::read_only); });
  EXPECT_NE(msg.find("schema version 99"), std::string::npos) << msg;
  EXPECT_NE(msg.find("upgrade hwnas"), std::string::npos) << msg;
}

TEST(LatencyTable, SameNameDifferentDeviceIsRejected) {
  const std::string path = test::make_temp_dir("lt") + "/t.db";
  LatencyTable t(path, LatencyTable::Mode::read_write);
  t.ensure_device(profile("dev", 2));
  EXPECT_NO_THROW(t.ensure_device(profile("dev", 2)));  // idempotent
  const auto msg = error_of([&] { t.ensure_device(profile("dev", 4)); });
  EXPECT_NE(msg.find("threads: 2 vs 4"), std::string::npos) << msg;
  EXPECT_NO_THROW(t.ensure_device(profile("dev4", 4)));  // another name is another device
  EXPECT_EQ(t.devices().size(), 2u);
}

TEST(LatencyTable, BatchIsAllOrNothing) {
  const std::string path = test::make_temp_dir("lt") + "/t.db";
  LatencyTable t(path, LatencyTable::Mode::read_write);
  t.ensure_device(profile());
  const auto run = t.begin_run("dev", "fake", TimingConfig{});
  t.insert("dev", run, {row("flatten:c=256,h=7,w=7", 0.01)});
  // The third row fails after two rows were written inside the transaction.
  std::vector<LatencyRow> batch = {row("flatten:c=272,h=7,w=7", 0.01),
                                   row("flatten:c=288,h=7,w=7", 0.01),
                                   row("flatten:c=304,h=7,w=7", std::nan(""))};
  EXPECT_THROW(t.insert("dev", run, batch), Error);
  EXPECT_EQ(t.keys("dev"), (std::unordered_set<std::string>{"flatten:c=256,h=7,w=7"}));
  LatencyTable again(path, LatencyTable::Mode::read_only);
  EXPECT_EQ(again.rows("dev").size(), 1u);
}

TEST(LatencyTable, ReadsNeverMixBuilds) {
  const std::string path = test::make_temp_dir("lt") + "/t.db";
  {
    LatencyTable t(path, LatencyTable::Mode::read_write);
    t.ensure_device(profile());
    t.insert("dev", t.begin_run("dev", "fake", TimingConfig{}),
             {row("flatten:c=256,h=7,w=7", 1.0)});
  }
  // A row written by another build under the same device id must not be read.
  raw_sql(path,
          "INSERT INTO builds(runtime) VALUES ('hwnas-engine 9.9 (git other)');"
          "INSERT INTO latencies SELECT device_id, 'flatten:c=999,h=7,w=7', "
          "(SELECT id FROM builds WHERE runtime LIKE '%other%'), run_id, 2.0, 2.0, 2.0, 2.0, 0, 1, "
          "measured_at, NULL, NULL, NULL, NULL, NULL, NULL, 'measured', NULL, NULL, NULL "
          "FROM latencies");
  LatencyTable t(path, LatencyTable::Mode::read_only);
  const auto rows = t.rows("dev");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key, "flatten:c=256,h=7,w=7");
}

TEST(LatencyTable, UnknownDeviceNamesTheProfileCommand) {
  const std::string path = test::make_temp_dir("lt") + "/t.db";
  LatencyTable t(path, LatencyTable::Mode::read_write);
  t.ensure_device(profile("dev"));
  const auto msg = error_of([&] { t.rows("phone"); });
  EXPECT_NE(msg.find("'phone'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("devices: dev"), std::string::npos) << msg;
  EXPECT_NE(msg.find("hwnas profile"), std::string::npos) << msg;
}

TEST(DeviceProfile, JsonRoundTripAndStrictness) {
  const DeviceProfile p = profile();
  EXPECT_EQ(device_profile_from_json(device_profile_to_json(p)), p);
  auto j = device_profile_to_json(p);
  j.erase("threads");
  EXPECT_THROW(device_profile_from_json(j), Error);
  EXPECT_THROW(host_device_profile("host", 0), Error);
  const DeviceProfile h = host_device_profile("host", 2);
  EXPECT_EQ(h.threads, 2);
  EXPECT_EQ(h.precision, "fp32");
  EXPECT_EQ(h.runtime.rfind("hwnas-engine ", 0), 0u) << h.runtime;
  EXPECT_FALSE(h.cpu_model.empty());
}

}  // namespace
}  // namespace hwnas
