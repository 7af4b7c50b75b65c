// `hwnas validate` as a library call: a latency table's predictions against end-to-end
// measurements on the device the table describes, with the optional learned correction stored
// back and the CSV and HTML reports written.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "predictors/latency_validation.h"
#include "predictors/lut_latency_predictor.h"
#include "profilers/block_timing_choice.h"
#include "profilers/profiler.h"

namespace hwnas {

struct TableValidationConfig {
  std::string space;
  std::string db = "hwnas.db";
  std::string device = "host";
  int samples = 0;         ///< random subnets measured
  std::uint64_t seed = 0;  ///< seeds the subnets
  int resolution = 0;      ///< 0: default_resolution(space)
  /// auto: the backend the stored profile names (a fake table's formula and seed, else the local
  /// engine); local or fake force one. A non-empty agent URL wins over all.
  std::string backend = "auto";
  std::string agent;  ///< http://HOST:PORT of `hwnas agent`
  std::string token;  ///< its bearer token
  LatencyStatistic statistic = LatencyStatistic::median;
  bool fit_correction = false;  ///< fit the learned correction and store it in the table
  TimingConfig timing = default_profile_timing();
  int windows = 3;
  /// Subnets timed together, their windows round-robin (ValidationOptions::group): a larger
  /// group puts a subnet's windows further apart, so one slow stretch of a shared host hits
  /// fewer of them.
  int group = 8;
  /// A +precision space's int8 stages: the int8 precision of the twin they are read from
  /// (int8_device_name(device, this)) and timed in: int8, int8-dwfaster or int8-dwfp32.
  std::string mixed_int8_precision = "int8";
  std::string csv;              ///< one row per subnet to this file ("" = none)
  std::string html;             ///< the report to this file ("" = none)
  std::ostream* log = nullptr;  ///< progress and warnings
};

struct TableValidationResult {
  ValidationReport report;
  /// validation_summary_json plus device, db, backend, threads, statistic, correction_stored,
  /// block_timing (BlockTimingSecondOpinion::to_json, or null).
  nlohmann::json summary;
  std::string space;  ///< canonical name
  int resolution = 0;
  int threads = 0;  ///< the table's thread count
  /// The validation's second opinion on the rows' probed block timing (summary "block_timing");
  /// nullopt for a mixed-precision space or a table whose timing no probe chose.
  std::optional<BlockTimingSecondOpinion> block_timing;
};

/// Opens the table, builds the measuring backend through the registry, refuses a backend whose
/// device differs from the stored profile (naming the difference and --agent), runs
/// validate_latency, stores a fitted correction ("correction" calibration) and writes the CSV and
/// HTML files atomically. Throws hwnas::Error on a missing table or device, --fit-correction with
/// the p10 statistic, a device mismatch, and what measuring throws.
TableValidationResult validate_table(const TableValidationConfig& config);

}  // namespace hwnas
