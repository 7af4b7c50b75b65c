#include "results/run_store.h"

#include <filesystem>

#include <sqlite3.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "predictors/accuracy_interval.h"

namespace hwnas {
namespace {

// 2 added evaluations.samples; version 1 files are read as they are (no samples) and upgraded
// in place when opened for writing (a resumed run).
constexpr int kSchemaVersion = 3;

// Finalises a prepared statement on every path out of a scope.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql, const std::string& path) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      throw Error("run database '" + path + "': " + sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

// JSON text without building a json value (the per-evaluation hot path of a checkpoint).
// Doubles print shortest-exact (std::to_chars), so they read back bit for bit.
void append_number(std::string& out, double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

std::string genes_text(const std::vector<int>& genes) {
  std::string out = "[";
  char buf[16];
  for (std::size_t i = 0; i < genes.size(); ++i) {
    if (i) out += ',';
    const auto r = std::to_chars(buf, buf + sizeof buf, genes[i]);
    out.append(buf, r.ptr);
  }
  return out + "]";
}

std::string values_text(const std::vector<std::string>& quoted_names,
                        const std::vector<double>& v) {
  std::string out = "{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += quoted_names[i];
    out += ':';
    if (std::isfinite(v[i]))
      append_number(out, v[i]);
    else
      out += "null";
  }
  return out + "}";
}

// {"accuracy": 1000}: the objectives whose values are proportions over held-out images.
std::string samples_text(const std::vector<std::string>& names,
                         const std::vector<std::size_t>& samples) {
  nlohmann::json out = nlohmann::json::object();
  for (std::size_t i = 0; i < samples.size() && i < names.size(); ++i)
    if (samples[i] > 0) out[names[i]] = samples[i];
  return out.dump();
}

// {"accuracy": [lo, hi]}: the 95 % Wilson interval of each counted proportion, stored beside the
// count so that SQL readers need not compute it.
std::string intervals_text(const std::vector<std::string>& names, const Evaluation& e) {
  nlohmann::json out = nlohmann::json::object();
  for (std::size_t i = 0; i < e.samples.size() && i < names.size() && i < e.objectives.size(); ++i)
    if (e.samples[i] > 0 && e.objectives[i] >= 0.0 && e.objectives[i] <= 1.0) {
      const AccuracyInterval ci = wilson_interval(e.objectives[i], e.samples[i]);
      out[names[i]] = {ci.lo, ci.hi};
    }
  return out.dump();
}

// A full disk is SQLITE_FULL and a file over `ulimit -f` (EFBIG) an I/O error: both need the
// user to free space or pick another place, which "disk I/O error" alone does not say.
std::string disk_hint(sqlite3* db) {
  const int code = sqlite3_errcode(db) & 0xff;
  return code == SQLITE_FULL || code == SQLITE_IOERR
             ? " (disk full or file size limit reached); free space or choose another --out"
             : "";
}

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

// Text stored by hwnas is JSON, but a damaged or hand-edited database may hold anything:
// nlohmann's exceptions would escape as internal failures, so they become hwnas::Error here.
nlohmann::json parse_stored(const std::string& text, const std::string& path,
                            const std::string& what) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded())
    throw Error("run database '" + path + "': " + what + " is not valid JSON (damaged file?)");
  return j;
}

double stored_number(const nlohmann::json& j, const std::string& path, const std::string& what) {
  if (!j.is_number()) throw Error("run database '" + path + "': " + what + " is not a number");
  return j.get<double>();
}

}  // namespace

RunStore::RunStore(const std::string& path, bool create) : path_(path) {
  if (!create && !std::filesystem::is_regular_file(path))
    throw Error("no run database '" + path +
                "': give the --out directory of an `hwnas search` run");
  const int flags = create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error("cannot open run database '" + path + "': " + msg + " (check --out)");
  }
  // The destructor does not run when the constructor throws: the guard closes the connection
  // (and its file descriptor) on every error below.
  struct CloseOnThrow {
    sqlite3*& db;
    bool armed = true;
    ~CloseOnThrow() {
      if (armed) {
        sqlite3_close(db);
        db = nullptr;
      }
    }
  } guard{db_};
  sqlite3_busy_timeout(db_, 5000);
  if (!create) {
    bool is_run = false;
    std::string io_error;
    try {
      is_run = meta("schema_version").has_value();
    } catch (const std::exception&) {
      is_run = false;  // not SQLite, or no meta table
      // ... unless the file could not be read at all: that must not be blamed on its content.
      const int code = sqlite3_errcode(db_) & 0xff;
      if (code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_CANTOPEN)
        io_error = sqlite3_errmsg(db_) + disk_hint(db_);
    }
    if (!is_run) {
      sqlite3_close(db_);
      db_ = nullptr;
      if (!io_error.empty()) throw Error("cannot read run database '" + path + "': " + io_error);
      throw Error("'" + path + "' is not an hwnas run database (no schema version)");
    }
    const auto version = meta("schema_version");
    if (*version != "1" && *version != "2" && *version != std::to_string(kSchemaVersion))
      throw Error("run database '" + path + "' has schema version " + *version +
                  ", this hwnas reads 1 to " + std::to_string(kSchemaVersion));
    version_ = std::stoi(*version);
    guard.armed = false;
    return;
  }
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=NORMAL");
  exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  exec(
      "CREATE TABLE IF NOT EXISTS evaluations(id INTEGER PRIMARY KEY, generation INTEGER NOT "
      "NULL, genes TEXT NOT NULL, arch TEXT NOT NULL, objectives TEXT NOT NULL, constraints "
      "TEXT NOT NULL, violation REAL NOT NULL, feasible INTEGER NOT NULL, samples TEXT NOT NULL "
      "DEFAULT '{}', intervals TEXT NOT NULL DEFAULT '{}', failure TEXT NOT NULL DEFAULT '')");
  exec(
      "CREATE TABLE IF NOT EXISTS generations(generation INTEGER PRIMARY KEY, evaluations "
      "INTEGER NOT NULL, front_size INTEGER NOT NULL, hypervolume REAL NOT NULL, elapsed_s REAL "
      "NOT NULL)");
  const auto version = meta("schema_version");
  if (!version) {
    exec("INSERT OR REPLACE INTO meta VALUES('schema_version', '" + std::to_string(kSchemaVersion) +
         "')");
  } else if (*version == "1" || *version == "2") {
    exec("BEGIN IMMEDIATE");
    if (*version == "1") {
      exec("ALTER TABLE evaluations ADD COLUMN samples TEXT NOT NULL DEFAULT '{}'");
      exec("ALTER TABLE evaluations ADD COLUMN intervals TEXT NOT NULL DEFAULT '{}'");
    }
    exec("ALTER TABLE evaluations ADD COLUMN failure TEXT NOT NULL DEFAULT ''");
    exec("UPDATE meta SET value = '" + std::to_string(kSchemaVersion) +
         "' WHERE key = 'schema_version'");
    exec("COMMIT");
  } else if (*version != std::to_string(kSchemaVersion)) {
    throw Error("run database '" + path + "' has schema version " + *version +
                ", this hwnas reads 1 to " + std::to_string(kSchemaVersion));
  }
  guard.armed = false;
}

RunStore::~RunStore() { sqlite3_close(db_); }

void RunStore::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error("run database '" + path_ + "': " + msg + disk_hint(db_));
  }
}

std::optional<std::string> RunStore::meta(const std::string& key) const {
  Statement s(db_, "SELECT value FROM meta WHERE key = ?", path_);
  bind_text(s.get(), 1, key);
  if (sqlite3_step(s.get()) == SQLITE_ROW) return column_text(s.get(), 0);
  return std::nullopt;
}

std::optional<nlohmann::json> RunStore::config() const {
  const auto text = meta("config");
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) throw Error("run database '" + path_ + "': the stored config is corrupt");
  return j;
}

void RunStore::set_config(const nlohmann::json& config) {
  Statement s(db_, "INSERT OR REPLACE INTO meta VALUES('config', ?)", path_);
  bind_text(s.get(), 1, config.dump());
  if (sqlite3_step(s.get()) != SQLITE_DONE)
    throw Error("run database '" + path_ + "': " + sqlite3_errmsg(db_) + disk_hint(db_));
}

std::optional<Checkpoint> RunStore::load_checkpoint() {
  if (!problem_) throw Error("RunStore: bind() a problem before loading a checkpoint");
  const auto last = meta("last_generation");
  if (!last) return std::nullopt;
  Checkpoint cp;
  const char* last_end = last->data() + last->size();
  const auto [last_ptr, last_ec] = std::from_chars(last->data(), last_end, cp.generation);
  if (last_ec != std::errc() || last_ptr != last_end)
    throw Error("run database '" + path_ + "': last_generation '" + *last +
                "' is not an integer (damaged file?)");
  cp.algorithm_state =
      parse_stored(meta("algorithm_state").value_or("null"), path_, "the algorithm state");
  cp.runner_state = parse_stored(meta("runner_state").value_or("null"), path_, "the runner state");
  const auto names = problem_->objective_names();
  const auto& constraints = problem_->constraints();
  const std::string select = std::string("SELECT generation, genes, objectives, constraints, ") +
                             (version_ >= 2 ? "samples, " : "'{}', ") +
                             (version_ >= 3 ? "failure" : "''") + " FROM evaluations ORDER BY id";
  Statement s(db_, select.c_str(), path_);
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    Evaluation e;
    e.generation = sqlite3_column_int(s.get(), 0);
    const auto genes = parse_stored(column_text(s.get(), 1), path_, "an evaluation's genes");
    e.arch.space = problem_->space().name();
    if (!genes.is_array())
      throw Error("run database '" + path_ + "': an evaluation's genes are not an array");
    for (const auto& g : genes) {
      // get<int> casts floats and wide integers unchecked.
      constexpr int lo = std::numeric_limits<int>::min(), hi = std::numeric_limits<int>::max();
      const bool fits =
          g.is_number_unsigned()
              ? g.get<std::uint64_t>() <= static_cast<std::uint64_t>(hi)
              : g.is_number_integer() && g.get<std::int64_t>() >= lo && g.get<std::int64_t>() <= hi;
      if (!fits)
        throw Error("run database '" + path_ + "': an evaluation's gene " + g.dump() +
                    " is not an integer");
      e.arch.genes.push_back(g.get<int>());
    }
    const auto obj = parse_stored(column_text(s.get(), 2), path_, "an evaluation's objectives");
    const auto con = parse_stored(column_text(s.get(), 3), path_, "an evaluation's constraints");
    if (!obj.is_object() || !con.is_object())
      throw Error("run database '" + path_ +
                  "': an evaluation's objectives or constraints are "
                  "not JSON objects");
    e.failure = column_text(s.get(), 5);
    for (const auto& n : names) {
      if (!obj.contains(n))
        throw Error("run database '" + path_ + "' has no values of objective '" + n +
                    "': resume with the run's own objectives");
      if (!e.failed())
        e.objectives.push_back(stored_number(obj[n], path_, "objective '" + n + "'"));
    }
    const auto samples = parse_stored(column_text(s.get(), 4), path_, "an evaluation's samples");
    for (const auto& n : names) {
      const auto it = samples.is_object() ? samples.find(n) : samples.end();
      e.samples.push_back(it != samples.end() && it->is_number_unsigned() ? it->get<std::size_t>()
                                                                          : std::size_t{0});
    }
    for (const auto& c : constraints) {
      const std::string n = c.metric->name();
      if (!con.contains(n))
        throw Error("run database '" + path_ + "' has no values of constrained metric '" + n + "'");
      if (!e.failed())
        e.constraint_values.push_back(
            stored_number(con[n], path_, "constrained metric '" + n + "'"));
    }
    cp.evaluations.push_back(std::move(e));
  }
  return cp;
}

void RunStore::save_generation(const GenerationRecord& r) {
  if (!problem_) throw Error("RunStore: bind() a problem before saving");
  const auto names = problem_->objective_names();
  const auto& constraints = problem_->constraints();
  const SearchSpace& space = problem_->space();
  exec("BEGIN IMMEDIATE");
  try {
    Statement ins(
        db_,
        "INSERT INTO evaluations(generation, genes, arch, objectives, constraints, "
        "violation, feasible, samples, intervals, failure) VALUES(?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?)",
        path_);
    std::vector<std::string> obj_names, con_names;
    for (const auto& n : names) obj_names.push_back(nlohmann::json(n).dump());
    for (const auto& c : constraints) con_names.push_back(nlohmann::json(c.metric->name()).dump());
    for (const auto& e : r.new_evaluations) {
      sqlite3_stmt* s = ins.get();
      sqlite3_reset(s);
      sqlite3_bind_int(s, 1, e.generation);
      bind_text(s, 2, genes_text(e.arch.genes));
      bind_text(s, 3, space.to_json(e.arch).dump());
      bind_text(s, 4, values_text(obj_names, e.objectives));
      bind_text(s, 5, values_text(con_names, e.constraint_values));
      sqlite3_bind_double(s, 6, e.violation);
      sqlite3_bind_int(s, 7, e.feasible() ? 1 : 0);
      bind_text(s, 8, samples_text(names, e.samples));
      bind_text(s, 9, intervals_text(names, e));
      bind_text(s, 10, e.failure);
      if (sqlite3_step(s) != SQLITE_DONE) throw Error(sqlite3_errmsg(db_) + disk_hint(db_));
    }
    Statement upd(db_,
                  "UPDATE evaluations SET objectives = ?, constraints = ?, violation = ?, "
                  "feasible = ?, samples = ?, intervals = ?, failure = ? WHERE genes = ?",
                  path_);
    for (const auto& e : r.replaced_evaluations) {
      sqlite3_stmt* s = upd.get();
      sqlite3_reset(s);
      bind_text(s, 1, values_text(obj_names, e.objectives));
      bind_text(s, 2, values_text(con_names, e.constraint_values));
      sqlite3_bind_double(s, 3, e.violation);
      sqlite3_bind_int(s, 4, e.feasible() ? 1 : 0);
      bind_text(s, 5, samples_text(names, e.samples));
      bind_text(s, 6, intervals_text(names, e));
      bind_text(s, 7, e.failure);
      bind_text(s, 8, genes_text(e.arch.genes));
      if (sqlite3_step(s) != SQLITE_DONE) throw Error(sqlite3_errmsg(db_) + disk_hint(db_));
      if (sqlite3_changes(db_) != 1)
        throw Error("no stored evaluation of arch " + space.to_json(e.arch).dump() + " to replace");
    }
    Statement gen(db_, "INSERT OR REPLACE INTO generations VALUES(?, ?, ?, ?, ?)", path_);
    sqlite3_bind_int(gen.get(), 1, r.generation);
    sqlite3_bind_int64(gen.get(), 2, static_cast<sqlite3_int64>(r.evaluations));
    sqlite3_bind_int64(gen.get(), 3, static_cast<sqlite3_int64>(r.front_size));
    sqlite3_bind_double(gen.get(), 4, r.hypervolume);
    sqlite3_bind_double(gen.get(), 5, r.elapsed_s);
    if (sqlite3_step(gen.get()) != SQLITE_DONE) throw Error(sqlite3_errmsg(db_) + disk_hint(db_));
    Statement meta_set(db_, "INSERT OR REPLACE INTO meta VALUES(?, ?)", path_);
    const std::pair<const char*, std::string> rows[] = {
        {"algorithm_state", r.algorithm_state.dump()},
        {"runner_state", r.runner_state.dump()},
        {"last_generation", std::to_string(r.generation)}};
    for (const auto& [k, v] : rows) {
      sqlite3_reset(meta_set.get());
      bind_text(meta_set.get(), 1, k);
      bind_text(meta_set.get(), 2, v);
      if (sqlite3_step(meta_set.get()) != SQLITE_DONE)
        throw Error(sqlite3_errmsg(db_) + disk_hint(db_));
    }
    exec("COMMIT");
  } catch (const std::exception& e) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    std::string why = e.what();
    const std::string self = "run database '" + path_ + "': ";
    if (why.rfind(self, 0) == 0) why.erase(0, self.size());  // exec() named the file already
    throw Error(self + "saving generation " + std::to_string(r.generation) + " failed: " + why);
  }
}

std::vector<GenerationSummary> RunStore::generations() const {
  std::vector<GenerationSummary> out;
  Statement s(db_, "SELECT * FROM generations ORDER BY generation", path_);
  while (sqlite3_step(s.get()) == SQLITE_ROW)
    out.push_back({sqlite3_column_int(s.get(), 0),
                   static_cast<std::size_t>(sqlite3_column_int64(s.get(), 1)),
                   static_cast<std::size_t>(sqlite3_column_int64(s.get(), 2)),
                   sqlite3_column_double(s.get(), 3), sqlite3_column_double(s.get(), 4)});
  return out;
}

std::vector<StoredEvaluation> RunStore::evaluations() const {
  std::vector<StoredEvaluation> out;
  const std::string select =
      std::string("SELECT id, generation, arch, objectives, constraints, violation, feasible, ") +
      (version_ >= 2 ? "samples, " : "'{}', ") + (version_ >= 3 ? "failure" : "''") +
      " FROM evaluations ORDER BY id";
  Statement s(db_, select.c_str(), path_);
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    StoredEvaluation e;
    e.id = sqlite3_column_int64(s.get(), 0);
    e.generation = sqlite3_column_int(s.get(), 1);
    e.arch = parse_stored(column_text(s.get(), 2), path_, "an evaluation's arch");
    e.objectives = parse_stored(column_text(s.get(), 3), path_, "an evaluation's objectives");
    e.constraints = parse_stored(column_text(s.get(), 4), path_, "an evaluation's constraints");
    e.violation = sqlite3_column_double(s.get(), 5);
    e.feasible = sqlite3_column_int(s.get(), 6) != 0;
    e.samples = parse_stored(column_text(s.get(), 7), path_, "an evaluation's samples");
    if (!e.samples.is_object())
      throw Error("run database '" + path_ + "': an evaluation's samples are not a JSON object");
    e.failure = column_text(s.get(), 8);
    out.push_back(std::move(e));
  }
  return out;
}

std::size_t RunStore::evaluation_count() const {
  Statement s(db_, "SELECT COUNT(*) FROM evaluations", path_);
  sqlite3_step(s.get());
  return static_cast<std::size_t>(sqlite3_column_int64(s.get(), 0));
}

}  // namespace hwnas
