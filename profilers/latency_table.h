// LatencyTable: per-device block latencies in one SQLite file (DESIGN.md "LatencyTable").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluators/runtime/timing.h"
#include "profilers/device_profile.h"

struct sqlite3;

namespace hwnas {

/// Where a row's latency comes from: timed on the device, or predicted by a transfer model
/// from another device's table (predictors/few_shot_table.h). Predictions, validation and search
/// read both alike; a plain `hwnas profile` measures predicted rows (they count as missing).
enum class RowOrigin { measured, predicted };

/// One block's latency: its canonical BlockSpec key and the timing statistics (ms).
struct LatencyRow {
  std::string key;
  TimingStats stats;
  std::string measured_at;  ///< ISO 8601 UTC; filled by the table on insert when empty
  RowOrigin origin = RowOrigin::measured;
  /// Predicted rows: the model that predicted the row ("few-shot ridge, source DB#DEVICE, ...")
  /// and its cross-validated relative error for the row's block kind (0.05 = 5 %).
  std::string predicted_by{};
  double predicted_error = 0;
};

/// A latency table file. Layout (schema version 4):
///   meta(key, value)                       format = "hwnas-latency-table", schema_version = 4
///   builds(id, runtime)                    the runtime part of a DeviceProfile (engine + git hash)
///   devices(id, name UNIQUE, cpu_model, logical_cores, threads, precision, batch, build_id)
///   runs(id, device_id, build_id, backend, timing, started_at)   one per profiling session
///   latencies(device_id, block_key) -> build_id, run_id, median/p10/p90/mean/std (ms), repeats,
///                                      measured_at, and the timing conditions (TimingConditions:
///                                      wall, thread CPU and steal ms, max_running, windows,
///                                      retimed, workers_wait_ms; NULL when unknown). Schema 2
///                                      added them but workers_wait_ms, which schema 4 added; a
///                                      schema-1 file is migrated when opened read-write and
///                                      reads as "unknown" when opened read-only. Schema 3 added
///                                      origin ('measured' | 'predicted'), predicted_by and
///                                      predicted_error; older rows read as measured.
///   calibrations(device_id, name) -> build_id, value (JSON text), measured_at
/// Device, build and measurement are separate tables; every read filters on the device *and* its
/// build, so rows of two builds are never mixed. The file runs in WAL mode (one writer, many
/// readers) and every batch of rows is written in one transaction.
/// Not thread-safe: one LatencyTable per thread.
class LatencyTable {
 public:
  enum class Mode { read_only, read_write };

  /// Opens (read_write: creating if absent) `path`. Throws hwnas::Error when the file is missing
  /// (read_only), is not an SQLite database, is an SQLite database without hwnas's `meta`
  /// table, or has a newer schema version than this build understands.
  LatencyTable(const std::string& path, Mode mode);
  ~LatencyTable();
  LatencyTable(const LatencyTable&) = delete;
  LatencyTable& operator=(const LatencyTable&) = delete;

  static constexpr int kSchemaVersion = 4;
  const std::string& path() const { return path_; }

  /// Registers `profile` under its name (idempotent). Throws hwnas::Error if a device of that
  /// name exists with a different profile (listing the differing fields): a different device
  /// needs a different name.
  void ensure_device(const DeviceProfile& profile);
  /// The stored profile of `name`, or nullopt.
  std::optional<DeviceProfile> find_device(const std::string& name) const;
  /// Every stored device, by name. Throws hwnas::Error if a device has no build record (a
  /// damaged file).
  std::vector<DeviceProfile> devices() const;

  /// Starts a profiling run for device `name` (registered), recording the backend name and
  /// timing config; returns its id for insert(). Throws hwnas::Error if the device is unknown.
  std::int64_t begin_run(const std::string& name, const std::string& backend,
                         const TimingConfig& timing);

  /// Inserts or replaces `rows` of device `name` in ONE transaction: either all rows are stored
  /// or none (a row with a non-finite or negative statistic throws hwnas::Error and rolls back
  /// the whole batch).
  void insert(const std::string& name, std::int64_t run_id, const std::vector<LatencyRow>& rows);

  /// Stores predicted rows (origin predicted) of device `name` and its calibration `what` =
  /// `value` (the model that predicted them) in ONE transaction. A predicted row never replaces
  /// a measured one: keys already measured keep their measurement. Throws hwnas::Error on an
  /// unknown device, a row that is not marked predicted or has an invalid statistic (nothing
  /// stored).
  void insert_predicted(const std::string& name, const std::vector<LatencyRow>& rows,
                        const std::string& what, const nlohmann::json& value);

  /// Keys stored for device `name`, measured and predicted (empty if the device is unknown).
  std::unordered_set<std::string> keys(const std::string& name) const;
  /// Keys of the rows measured on device `name` (what a resumed `hwnas profile` skips).
  std::unordered_set<std::string> measured_keys(const std::string& name) const;
  /// Every row of device `name`, ordered by key. Throws hwnas::Error if the device is unknown.
  std::vector<LatencyRow> rows(const std::string& name) const;

  /// Device-level calibration values (e.g. "overhead" {"ms":..}, "correction" {...}) stored as
  /// JSON text; set_* replaces, in one transaction. Throws hwnas::Error if the device is unknown.
  std::optional<nlohmann::json> calibration(const std::string& name, const std::string& what) const;
  void set_calibration(const std::string& name, const std::string& what,
                       const nlohmann::json& value);

 private:
  std::int64_t device_id(const std::string& name) const;  // -1 if absent
  std::string path_;
  int schema_version_ = kSchemaVersion;  // of the file as opened (after any migration)
  sqlite3* db_ = nullptr;
};

/// Current UTC time as "YYYY-MM-DDTHH:MM:SSZ".
std::string utc_now_iso8601();

}  // namespace hwnas
