// LutLatencyPredictor: network latency = sum of its blocks' table medians + the device's
// per-inference overhead (+ an optional learned correction). The lookup-table method of
// ProxylessNAS / Once-for-All / nn-Meter, at hwnas's block granularity.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "predictors/latency_correction.h"
#include "predictors/latency_predictor.h"
#include "profilers/latency_table.h"

namespace hwnas {

/// Which table statistic a prediction sums. `median` is the method (DESIGN.md); `p10` is a
/// diagnostic for shared, noisy machines, where preemption inflates medians of short blocks more
/// than those of whole networks (the 10th percentile is nearly free of it). p10 predictions
/// never apply the learned correction (it is fitted on medians).
enum class LatencyStatistic { median, p10 };

class LutLatencyPredictor : public LatencyPredictor {
 public:
  /// Loads every row of device `device_name` from table `db_path`, with its stored overhead and
  /// correction. Throws hwnas::Error if the file, the device or the table is missing/invalid
  /// (the message names it and the `hwnas profile` command that builds it).
  static std::unique_ptr<LutLatencyPredictor> open(
      const std::string& db_path, const std::string& device_name,
      LatencyStatistic statistic = LatencyStatistic::median);
  /// Like open(), but a missing file, device or empty device gives a predictor with no rows
  /// (overhead 0) for `db_path`/`device_name`, for callers that fill rows as they go
  /// (FillingLutPredictor). Throws hwnas::Error if the file exists and is not a latency table.
  static std::unique_ptr<LutLatencyPredictor> open_or_empty(const std::string& db_path,
                                                            const std::string& device_name);
  /// A copy with `rows` added (replacing rows of the same key); same table, device, overhead
  /// and correction.
  std::unique_ptr<LutLatencyPredictor> with_rows(const std::vector<LatencyRow>& rows) const;
  /// A predictor over given rows (tests, tools): medians in ms per block, overhead in ms.
  static std::unique_ptr<LutLatencyPredictor> from_rows(const std::vector<LatencyRow>& rows,
                                                        double overhead_ms,
                                                        std::optional<LatencyCorrection> correction,
                                                        std::string source);

  /// With the stored correction when there is one (LatencyCorrection::apply on the network's
  /// features, at the speed of the run it was fitted in: LatencyCorrection::speed says why that
  /// is not divided out), else predict_sum_ms. Thread-safe, no
  /// allocation on success. Throws hwnas::Error naming the missing keys (first few + count) and
  /// the `hwnas profile` command that fills them, or for a network with int8 blocks
  /// (Network::block_int8; predictors/mixed_precision_latency.h predicts those).
  double predict_ms(const Network& net) const override;
  /// Plain sum of block medians + overhead, in ms. Same errors as predict_ms.
  double predict_sum_ms(const Network& net) const;
  /// The correction's inputs for `net` (per-kind sums and counts, plain prediction).
  LatencyFeatures features(const Network& net) const;
  /// The blocks of `net` with no row in the table (each once, in network order).
  std::vector<BlockSpec> missing(const Network& net) const;
  /// Median of one block in ms, or nullopt when it has no row.
  std::optional<double> block_ms(const BlockSpec& block) const;
  /// "lut:<db>#<device>" (+ " +correction" when one is used).
  std::string source() const override;

  double overhead_ms() const { return overhead_ms_; }
  bool has_correction() const { return correction_.has_value(); }
  /// The stored correction, if any.
  const std::optional<LatencyCorrection>& correction() const { return correction_; }
  std::size_t rows() const { return rows_.size(); }
  const std::string& db_path() const { return db_path_; }
  const std::string& device() const { return device_; }

 private:
  LutLatencyPredictor() = default;
  [[noreturn]] void throw_missing(const Network& net) const;
  /// Sets `block`'s row: its median and, with the correction folded in, its corrected term.
  void set_row(const BlockSpec& block, double median_ms);

  // A row's median, and what the block adds to the corrected prediction (its median plus the
  // correction's block_term): predict_ms then costs one lookup per block either way, where
  // building LatencyFeatures per network took 1.6-1.9x the plain sum's time (bench/README.md).
  struct Row {
    double median_ms = 0;
    double corrected_ms = 0;
  };
  std::unordered_map<BlockSpec, Row, BlockSpecHash> rows_;
  double overhead_ms_ = 0;
  std::optional<LatencyCorrection> correction_;
  std::string db_path_;
  std::string device_;
  std::string source_;
};

}  // namespace hwnas
