#include "results/evaluation_log.h"

#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <limits>

#include "core/error.h"

namespace hwnas {
namespace {

std::string genes_key(const Arch& arch) { return nlohmann::json(arch.genes).dump(); }

// A prepared statement that finalises itself.
struct Statement {
  sqlite3_stmt* s = nullptr;
  Statement(sqlite3* db, const char* sql, const std::string& path) {
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
      throw Error("evaluation log in '" + path + "': " + sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(s); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
};

}  // namespace

EvaluationLog::EvaluationLog(std::string run_db) : path_(std::move(run_db)) {}

EvaluationLog::~EvaluationLog() { sqlite3_close(db_); }

void EvaluationLog::open() {
  if (db_) return;
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error("cannot open the evaluation log in '" + path_ + "': " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  const char* setup =
      "PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS evaluation_log(genes TEXT PRIMARY KEY, metrics TEXT NOT NULL)";
  char* err = nullptr;
  if (sqlite3_exec(db_, setup, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string why = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error("cannot create the evaluation log in '" + path_ + "': " + why);
  }
}

std::optional<std::vector<double>> EvaluationLog::find(const Arch& arch) {
  open();
  Statement st(db_, "SELECT metrics FROM evaluation_log WHERE genes = ?1", path_);
  const std::string key = genes_key(arch);
  sqlite3_bind_text(st.s, 1, key.c_str(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st.s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) throw Error("evaluation log in '" + path_ + "': " + sqlite3_errmsg(db_));
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 0));
  const nlohmann::json j = nlohmann::json::parse(text ? text : "", nullptr, false);
  if (!j.is_array())
    throw Error("evaluation log in '" + path_ + "': the row of " + key +
                " is damaged; delete its evaluation_log table to re-evaluate");
  std::vector<double> out;
  for (const auto& v : j) {
    if (v.is_null()) {  // JSON has no NaN: a failed metric's NaN is written as null
      out.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    if (!v.is_number())
      throw Error("evaluation log in '" + path_ + "': the row of " + key + " is damaged");
    out.push_back(v.get<double>());
  }
  return out;
}

void EvaluationLog::append(const Arch& arch, const std::vector<double>& metrics) {
  open();
  Statement st(db_, "INSERT OR REPLACE INTO evaluation_log(genes, metrics) VALUES (?1, ?2)", path_);
  const std::string key = genes_key(arch), values = nlohmann::json(metrics).dump();
  sqlite3_bind_text(st.s, 1, key.c_str(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 2, values.c_str(), static_cast<int>(values.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) != SQLITE_DONE)
    throw Error("cannot log an evaluation in '" + path_ + "': " + sqlite3_errmsg(db_));
}

std::size_t EvaluationLog::size() {
  open();
  Statement st(db_, "SELECT COUNT(*) FROM evaluation_log", path_);
  if (sqlite3_step(st.s) != SQLITE_ROW)
    throw Error("evaluation log in '" + path_ + "': " + sqlite3_errmsg(db_));
  return static_cast<std::size_t>(sqlite3_column_int64(st.s, 0));
}

}  // namespace hwnas
