#include "profilers/latency_table.h"

#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <thread>

#include "core/error.h"

namespace hwnas {
namespace {

constexpr const char* kFormat = "hwnas-latency-table";

// SQLite reports a full disk as SQLITE_FULL and a file over `ulimit -f` (EFBIG) as an I/O
// error; either way the user needs to hear which file and what to do, not just "disk I/O error".
std::string failure(sqlite3* db, const std::string& path, const std::string& msg) {
  const int code = sqlite3_errcode(db) & 0xff;
  if (code == SQLITE_FULL || code == SQLITE_IOERR)
    return "writing latency table " + path + " failed: " + msg +
           " (disk full or file size limit reached); free space or choose another --db";
  return "latency table " + path + ": " + msg;
}

// One prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql, const std::string& path) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK)
      throw Error(failure(db, path, sqlite3_errmsg(db)));
  }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Stmt& bind(int i, int v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(st_, i, v);
    return *this;
  }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // true while a row is available.
  bool step(const std::string& path) {
    const int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw Error(failure(db_, path, sqlite3_errmsg(db_)));
  }
  void reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  std::int64_t i64(int c) const { return sqlite3_column_int64(st_, c); }
  double f64(int c) const { return sqlite3_column_double(st_, c); }
  std::string text(int c) const {
    const auto* p = sqlite3_column_text(st_, c);
    return p ? reinterpret_cast<const char*>(p) : "";
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

// Switches the file to WAL. Going from the rollback journal to WAL needs an exclusive lock, and
// when two writers that both read the new file try it at once SQLite answers SQLITE_BUSY at once
// instead of waiting (deadlock avoidance bypasses the busy handler): one of four profilers on a
// new file saw "database is locked" (CTest Concurrency.FourProfileWriters, twice in about 15 runs
// on a loaded 2-core host). The switch is retried for up to the busy timeout.
void set_wal(sqlite3* db, const std::string& path);

void exec(sqlite3* db, const char* sql, const std::string& path) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    if (msg.find("not a database") != std::string::npos)
      throw Error(path +
                  " is not an hwnas latency table (not an SQLite database); pass another "
                  "--db or build one with `hwnas profile`");
    throw Error(failure(db, path, msg));
  }
}

void set_wal(sqlite3* db, const std::string& path) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    const int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return;
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || std::chrono::steady_clock::now() > deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  exec(db, "PRAGMA journal_mode=WAL", path);  // the error, named as every other one
}

// Runs `fn` inside one IMMEDIATE transaction; rolls back on any exception.
template <class Fn>
void transaction(sqlite3* db, const std::string& path, Fn&& fn) {
  exec(db, "BEGIN IMMEDIATE", path);
  try {
    fn();
    exec(db, "COMMIT", path);
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

const char* kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE builds(id INTEGER PRIMARY KEY, runtime TEXT NOT NULL UNIQUE);
CREATE TABLE devices(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, cpu_model TEXT NOT NULL,
  logical_cores INTEGER NOT NULL, threads INTEGER NOT NULL, precision TEXT NOT NULL,
  batch INTEGER NOT NULL, build_id INTEGER NOT NULL REFERENCES builds(id), created_at TEXT NOT NULL);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL REFERENCES devices(id),
  build_id INTEGER NOT NULL REFERENCES builds(id), backend TEXT NOT NULL, timing TEXT NOT NULL,
  started_at TEXT NOT NULL);
CREATE TABLE latencies(
  device_id INTEGER NOT NULL REFERENCES devices(id), block_key TEXT NOT NULL,
  build_id INTEGER NOT NULL REFERENCES builds(id), run_id INTEGER REFERENCES runs(id),
  median_ms REAL NOT NULL CHECK(median_ms >= 0), p10_ms REAL NOT NULL, p90_ms REAL NOT NULL,
  mean_ms REAL NOT NULL, std_ms REAL NOT NULL, repeats INTEGER NOT NULL, measured_at TEXT NOT NULL,
  wall_ms REAL, thread_cpu_ms REAL, steal_ms REAL, max_running INTEGER, windows INTEGER,
  retimed INTEGER,
  origin TEXT NOT NULL DEFAULT 'measured' CHECK(origin IN ('measured', 'predicted')),
  predicted_by TEXT, predicted_error REAL, workers_wait_ms REAL,
  PRIMARY KEY(device_id, block_key));
CREATE TABLE calibrations(
  device_id INTEGER NOT NULL REFERENCES devices(id), name TEXT NOT NULL,
  build_id INTEGER NOT NULL REFERENCES builds(id), value TEXT NOT NULL, measured_at TEXT NOT NULL,
  PRIMARY KEY(device_id, name));
)sql";

// Schema 1 -> 2: each row's timing conditions (issue 15). Old rows keep NULL (unknown).
const char* kMigrateTo2 = R"sql(
ALTER TABLE latencies ADD COLUMN wall_ms REAL;
ALTER TABLE latencies ADD COLUMN thread_cpu_ms REAL;
ALTER TABLE latencies ADD COLUMN steal_ms REAL;
ALTER TABLE latencies ADD COLUMN max_running INTEGER;
ALTER TABLE latencies ADD COLUMN windows INTEGER;
ALTER TABLE latencies ADD COLUMN retimed INTEGER;
UPDATE meta SET value = '2' WHERE key = 'schema_version';
)sql";

// Schema 2 -> 3: rows predicted by a few-shot transfer model (issue 18). Old rows are measured.
const char* kMigrateTo3 = R"sql(
ALTER TABLE latencies ADD COLUMN origin TEXT NOT NULL DEFAULT 'measured'
  CHECK(origin IN ('measured', 'predicted'));
ALTER TABLE latencies ADD COLUMN predicted_by TEXT;
ALTER TABLE latencies ADD COLUMN predicted_error REAL;
UPDATE meta SET value = '3' WHERE key = 'schema_version';
)sql";

// Schema 3 -> 4: the run-queue delay of the engine's workers while a row was timed (issue 15).
// Old rows keep NULL (unknown).
const char* kMigrateTo4 = R"sql(
ALTER TABLE latencies ADD COLUMN workers_wait_ms REAL;
UPDATE meta SET value = '4' WHERE key = 'schema_version';
)sql";

// A finite, non-negative statistic, or an error naming the row.
void check_row(const LatencyRow& r) {
  const TimingStats& s = r.stats;
  for (double v : {s.median_ms, s.p10_ms, s.p90_ms, s.mean_ms, s.std_ms})
    if (!std::isfinite(v) || v < 0)
      throw Error("latency row '" + r.key + "' has an invalid statistic (" + std::to_string(v) +
                  " ms); batch not stored");
  if (r.key.empty()) throw Error("latency row with an empty block key; batch not stored");
}

}  // namespace

std::string utc_now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

LatencyTable::LatencyTable(const std::string& path, Mode mode) : path_(path) {
  if (mode == Mode::read_only && !std::filesystem::exists(path))
    throw Error("latency table " + path + " does not exist; build it with `hwnas profile --db " +
                path + "`");
  const int flags =
      mode == Mode::read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error("cannot open latency table " + path + ": " + msg);
  }
  try {
    sqlite3_busy_timeout(db_, 10000);
    int tables = 0;
    bool has_meta = false;
    auto read_tables = [&] {
      tables = 0;
      has_meta = false;
      Stmt q(db_, "SELECT name FROM sqlite_master WHERE type='table'", path_);
      while (q.step(path_)) {
        ++tables;
        if (q.text(0) == "meta") has_meta = true;
      }
    };
    // Reading sqlite_master is the first access to the file: it fails on a non-database.
    try {
      read_tables();
    } catch (const Error&) {
      throw Error(path_ +
                  " is not an hwnas latency table (not an SQLite database); pass "
                  "another --db or build one with `hwnas profile`");
    }
    if (tables == 0) {
      if (mode == Mode::read_only)
        throw Error(path_ +
                    " is an empty file, not an hwnas latency table; build it with "
                    "`hwnas profile --db " +
                    path_ + "`");
      set_wal(db_, path_);
      exec(db_, "PRAGMA synchronous=NORMAL", path_);
      bool created = false;
      transaction(db_, path_, [&] {
        // Several profilers started on one new file all saw it empty; only the first to get
        // the write lock creates the schema, the others then open what it made.
        read_tables();
        if (tables > 0) return;
        exec(db_, kSchema, path_);
        Stmt ins(db_, "INSERT INTO meta(key, value) VALUES (?, ?)", path_);
        ins.bind(1, std::string("format")).bind(2, std::string(kFormat));
        ins.step(path_);
        ins.reset();
        ins.bind(1, std::string("schema_version")).bind(2, std::to_string(kSchemaVersion));
        ins.step(path_);
        created = true;
      });
      if (created) return;
    }
    if (!has_meta)
      throw Error(path_ +
                  " is an SQLite database but not an hwnas latency table (no meta "
                  "table); pass another --db");
    std::string format, version;
    {
      Stmt q(db_, "SELECT key, value FROM meta", path_);
      while (q.step(path_)) {
        if (q.text(0) == "format") format = q.text(1);
        if (q.text(0) == "schema_version") version = q.text(1);
      }
    }
    if (format != kFormat)
      throw Error(path_ + " is an SQLite database but not an hwnas latency table (meta format '" +
                  format + "'); pass another --db");
    int v = 0;
    try {
      v = std::stoi(version);
    } catch (...) {
      throw Error(path_ + ": invalid schema_version '" + version + "' in meta");
    }
    if (v > kSchemaVersion)
      throw Error(path_ + " has latency-table schema version " + std::to_string(v) +
                  ", newer than this hwnas understands (" + std::to_string(kSchemaVersion) +
                  "); upgrade hwnas");
    if (v < 1) throw Error(path_ + ": invalid schema_version " + version + " in meta");
    schema_version_ = v;
    if (mode == Mode::read_write) {
      // WAL + synchronous=NORMAL: a crash may lose the last commits, never corrupt the file.
      set_wal(db_, path_);
      exec(db_, "PRAGMA synchronous=NORMAL", path_);
      if (schema_version_ < kSchemaVersion) {
        transaction(db_, path_, [&] {
          // Another writer may have migrated the file since the version was read.
          std::string now;
          {
            Stmt q(db_, "SELECT value FROM meta WHERE key = 'schema_version'", path_);
            if (q.step(path_)) now = q.text(0);
          }
          if (now == "1") exec(db_, kMigrateTo2, path_);
          if (now == "1" || now == "2") exec(db_, kMigrateTo3, path_);
          if (now == "1" || now == "2" || now == "3") exec(db_, kMigrateTo4, path_);
        });
        schema_version_ = kSchemaVersion;
      }
    }
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

LatencyTable::~LatencyTable() { sqlite3_close(db_); }

std::int64_t LatencyTable::device_id(const std::string& name) const {
  Stmt q(db_, "SELECT id FROM devices WHERE name = ?", path_);
  q.bind(1, name);
  return q.step(path_) ? q.i64(0) : -1;
}

void LatencyTable::ensure_device(const DeviceProfile& p) {
  if (p.name.empty()) throw Error("device name must not be empty (use --device NAME)");
  auto check = [&](const DeviceProfile& existing) {
    const std::string d = existing.diff(p);
    if (!d.empty())
      throw Error("device '" + p.name + "' in " + path_ + " was profiled on a different device (" +
                  d + "); pick another --device name or another --db");
  };
  if (auto existing = find_device(p.name)) return check(*existing);
  transaction(db_, path_, [&] {
    Stmt b(db_, "INSERT OR IGNORE INTO builds(runtime) VALUES (?)", path_);
    b.bind(1, p.runtime);
    b.step(path_);
    // OR IGNORE: another profiler on this file may have registered the name since the check
    // above; the check below then compares its profile with ours.
    Stmt d(db_,
           "INSERT OR IGNORE INTO devices(name, cpu_model, logical_cores, threads, precision, "
           "batch, build_id, created_at) SELECT ?, ?, ?, ?, ?, ?, id, ? FROM builds WHERE "
           "runtime = ?",
           path_);
    d.bind(1, p.name).bind(2, p.cpu_model).bind(3, p.logical_cores).bind(4, p.threads);
    d.bind(5, p.precision).bind(6, p.batch).bind(7, utc_now_iso8601()).bind(8, p.runtime);
    d.step(path_);
  });
  check(*find_device(p.name));
}

std::optional<DeviceProfile> LatencyTable::find_device(const std::string& name) const {
  Stmt q(db_,
         "SELECT d.name, d.cpu_model, d.logical_cores, d.threads, b.runtime, d.precision, d.batch "
         "FROM devices d JOIN builds b ON b.id = d.build_id WHERE d.name = ?",
         path_);
  q.bind(1, name);
  if (!q.step(path_)) return std::nullopt;
  DeviceProfile p;
  p.name = q.text(0);
  p.cpu_model = q.text(1);
  p.logical_cores = static_cast<int>(q.i64(2));
  p.threads = static_cast<int>(q.i64(3));
  p.runtime = q.text(4);
  p.precision = q.text(5);
  p.batch = static_cast<int>(q.i64(6));
  return p;
}

std::vector<DeviceProfile> LatencyTable::devices() const {
  std::vector<std::string> names;
  {
    Stmt q(db_, "SELECT name FROM devices ORDER BY name", path_);
    while (q.step(path_)) names.push_back(q.text(0));
  }
  std::vector<DeviceProfile> out;
  for (const auto& n : names) {
    // A device whose build row is missing exists only in a damaged file.
    auto p = find_device(n);
    if (!p)
      throw Error("latency table " + path_ + ": device '" + n +
                  "' has no build record (damaged file); re-create the table with `hwnas profile`");
    out.push_back(std::move(*p));
  }
  return out;
}

std::int64_t LatencyTable::begin_run(const std::string& name, const std::string& backend,
                                     const TimingConfig& timing) {
  const std::int64_t id = device_id(name);
  if (id < 0) throw Error("device '" + name + "' is not in " + path_);
  const nlohmann::json t = {{"warmup", timing.warmup},
                            {"min_repeats", timing.min_repeats},
                            {"min_time_ms", timing.min_time_ms},
                            {"max_repeats", timing.max_repeats}};
  std::int64_t run = -1;
  transaction(db_, path_, [&] {
    Stmt q(db_,
           "INSERT INTO runs(device_id, build_id, backend, timing, started_at) "
           "SELECT id, build_id, ?, ?, ? FROM devices WHERE id = ?",
           path_);
    q.bind(1, backend).bind(2, t.dump()).bind(3, utc_now_iso8601()).bind(4, id);
    q.step(path_);
    run = sqlite3_last_insert_rowid(db_);
  });
  return run;
}

void LatencyTable::insert(const std::string& name, std::int64_t run_id,
                          const std::vector<LatencyRow>& rows) {
  const std::int64_t id = device_id(name);
  if (id < 0) throw Error("device '" + name + "' is not in " + path_);
  const std::string now = utc_now_iso8601();
  transaction(db_, path_, [&] {
    Stmt q(db_,
           "INSERT OR REPLACE INTO latencies(device_id, block_key, build_id, run_id, median_ms, "
           "p10_ms, p90_ms, mean_ms, std_ms, repeats, measured_at, wall_ms, thread_cpu_ms, "
           "steal_ms, max_running, windows, retimed, workers_wait_ms) "
           "SELECT id, ?, build_id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM devices "
           "WHERE id = ?",
           path_);
    for (const auto& r : rows) {
      check_row(r);
      if (r.origin != RowOrigin::measured)
        throw Error("latency row '" + r.key +
                    "' is predicted; predicted rows are stored with insert_predicted");
      const TimingStats& s = r.stats;
      q.reset();
      q.bind(1, r.key).bind(2, run_id).bind(3, s.median_ms).bind(4, s.p10_ms);
      q.bind(5, s.p90_ms).bind(6, s.mean_ms).bind(7, s.std_ms).bind(8, s.repeats);
      q.bind(9, r.measured_at.empty() ? now : r.measured_at);
      const TimingConditions& c = s.conditions;
      if (c.windows > 0) {  // else NULL: unknown (the fake device, an older agent)
        q.bind(10, c.wall_ms).bind(11, c.thread_cpu_ms).bind(12, c.steal_ms);
        q.bind(13, c.max_running).bind(14, c.windows).bind(15, c.retimed);
        q.bind(16, c.workers_wait_ms);
      }
      q.bind(17, id);
      q.step(path_);
    }
  });
}

void LatencyTable::insert_predicted(const std::string& name, const std::vector<LatencyRow>& rows,
                                    const std::string& what, const nlohmann::json& value) {
  const std::int64_t id = device_id(name);
  if (id < 0) throw Error("device '" + name + "' is not in " + path_);
  const std::string now = utc_now_iso8601();
  transaction(db_, path_, [&] {
    // The upsert's WHERE keeps measured rows: a prediction never replaces a measurement.
    Stmt q(db_,
           "INSERT INTO latencies(device_id, block_key, build_id, run_id, median_ms, p10_ms, "
           "p90_ms, mean_ms, std_ms, repeats, measured_at, origin, predicted_by, "
           "predicted_error) SELECT id, ?, build_id, NULL, ?, ?, ?, ?, ?, 0, ?, 'predicted', ?, ? "
           "FROM devices WHERE id = ? ON CONFLICT(device_id, block_key) DO UPDATE SET "
           "build_id = excluded.build_id, run_id = NULL, median_ms = excluded.median_ms, "
           "p10_ms = excluded.p10_ms, p90_ms = excluded.p90_ms, mean_ms = excluded.mean_ms, "
           "std_ms = excluded.std_ms, repeats = 0, measured_at = excluded.measured_at, "
           "wall_ms = NULL, thread_cpu_ms = NULL, steal_ms = NULL, max_running = NULL, "
           "windows = NULL, retimed = NULL, workers_wait_ms = NULL, origin = 'predicted', "
           "predicted_by = excluded.predicted_by, predicted_error = excluded.predicted_error "
           "WHERE latencies.origin = 'predicted'",
           path_);
    for (const auto& r : rows) {
      check_row(r);
      if (r.origin != RowOrigin::predicted)
        throw Error("latency row '" + r.key + "' is not marked predicted; batch not stored");
      const TimingStats& s = r.stats;
      q.reset();
      q.bind(1, r.key).bind(2, s.median_ms).bind(3, s.p10_ms).bind(4, s.p90_ms);
      q.bind(5, s.mean_ms).bind(6, s.std_ms).bind(7, r.measured_at.empty() ? now : r.measured_at);
      q.bind(8, r.predicted_by).bind(9, r.predicted_error).bind(10, id);
      q.step(path_);
    }
    Stmt c(db_,
           "INSERT OR REPLACE INTO calibrations(device_id, name, build_id, value, measured_at) "
           "SELECT id, ?, build_id, ?, ? FROM devices WHERE id = ?",
           path_);
    c.bind(1, what).bind(2, value.dump()).bind(3, now).bind(4, id);
    c.step(path_);
  });
}

std::unordered_set<std::string> LatencyTable::keys(const std::string& name) const {
  std::unordered_set<std::string> out;
  Stmt q(db_,
         "SELECT l.block_key FROM latencies l JOIN devices d ON d.id = l.device_id "
         "AND d.build_id = l.build_id WHERE d.name = ?",
         path_);
  q.bind(1, name);
  while (q.step(path_)) out.insert(q.text(0));
  return out;
}

std::unordered_set<std::string> LatencyTable::measured_keys(const std::string& name) const {
  if (schema_version_ < 3) return keys(name);  // a read-only older file: every row was measured
  std::unordered_set<std::string> out;
  Stmt q(db_,
         "SELECT l.block_key FROM latencies l JOIN devices d ON d.id = l.device_id "
         "AND d.build_id = l.build_id WHERE d.name = ? AND l.origin = 'measured'",
         path_);
  q.bind(1, name);
  while (q.step(path_)) out.insert(q.text(0));
  return out;
}

std::vector<LatencyRow> LatencyTable::rows(const std::string& name) const {
  if (device_id(name) < 0) {
    std::string known;
    for (const auto& d : devices()) known += (known.empty() ? "" : ", ") + d.name;
    throw Error("device '" + name + "' is not in latency table " + path_ +
                " (devices: " + (known.empty() ? "none" : known) +
                "); build it with `hwnas profile --db " + path_ + " --device " + name + "`");
  }
  std::vector<LatencyRow> out;
  // A schema-1 file opened read-only has no condition columns: they read as unknown (0).
  const std::string conditions = schema_version_ >= 2
                                     ? "l.wall_ms, l.thread_cpu_ms, l.steal_ms, l.max_running, "
                                       "l.windows, l.retimed"
                                     : "0, 0, 0, 0, 0, 0";
  const std::string origin = schema_version_ >= 3 ? ", l.origin, l.predicted_by, l.predicted_error"
                                                  : ", 'measured', NULL, NULL";
  const std::string workers_wait = schema_version_ >= 4 ? ", l.workers_wait_ms" : ", 0";
  Stmt q(db_,
         ("SELECT l.block_key, l.median_ms, l.p10_ms, l.p90_ms, l.mean_ms, l.std_ms, l.repeats, "
          "l.measured_at, " +
          conditions + origin + workers_wait +
          " FROM latencies l JOIN devices d ON "
          "d.id = l.device_id AND d.build_id = l.build_id WHERE d.name = ? ORDER BY l.block_key")
             .c_str(),
         path_);
  q.bind(1, name);
  while (q.step(path_)) {
    LatencyRow r;
    r.key = q.text(0);
    r.stats.median_ms = q.f64(1);
    r.stats.p10_ms = q.f64(2);
    r.stats.p90_ms = q.f64(3);
    r.stats.mean_ms = q.f64(4);
    r.stats.std_ms = q.f64(5);
    r.stats.repeats = static_cast<int>(q.i64(6));
    r.measured_at = q.text(7);
    TimingConditions& c = r.stats.conditions;
    c.wall_ms = q.f64(8);
    c.thread_cpu_ms = q.f64(9);
    c.steal_ms = q.f64(10);
    c.max_running = static_cast<int>(q.i64(11));
    c.windows = static_cast<int>(q.i64(12));
    c.retimed = static_cast<int>(q.i64(13));
    r.origin = q.text(14) == "predicted" ? RowOrigin::predicted : RowOrigin::measured;
    r.predicted_by = q.text(15);
    r.predicted_error = q.f64(16);
    c.workers_wait_ms = q.f64(17);
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<nlohmann::json> LatencyTable::calibration(const std::string& name,
                                                        const std::string& what) const {
  Stmt q(db_,
         "SELECT c.value FROM calibrations c JOIN devices d ON d.id = c.device_id "
         "AND d.build_id = c.build_id WHERE d.name = ? AND c.name = ?",
         path_);
  q.bind(1, name).bind(2, what);
  if (!q.step(path_)) return std::nullopt;
  try {
    return nlohmann::json::parse(q.text(0));
  } catch (const nlohmann::json::exception& e) {
    throw Error("latency table " + path_ + ": calibration '" + what + "' of device '" + name +
                "' is not valid JSON; re-run `hwnas profile --force`");
  }
}

void LatencyTable::set_calibration(const std::string& name, const std::string& what,
                                   const nlohmann::json& value) {
  const std::int64_t id = device_id(name);
  if (id < 0) throw Error("device '" + name + "' is not in " + path_);
  transaction(db_, path_, [&] {
    Stmt q(db_,
           "INSERT OR REPLACE INTO calibrations(device_id, name, build_id, value, measured_at) "
           "SELECT id, ?, build_id, ?, ? FROM devices WHERE id = ?",
           path_);
    q.bind(1, what).bind(2, value.dump()).bind(3, utc_now_iso8601()).bind(4, id);
    q.step(path_);
  });
}

}  // namespace hwnas
