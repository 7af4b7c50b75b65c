// Latency validation: how well a LUT prediction matches the end-to-end time of whole networks
// (nn-Meter's metrics: RMSE, RMSPE, share within +-5 % / +-10 %; plus Kendall's tau for ranking).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "predictors/latency_correction.h"
#include "predictors/latency_residuals.h"
#include "predictors/lut_latency_predictor.h"
#include "profilers/backend.h"
#include "spaces/search_space.h"

namespace hwnas {

/// Accuracy of predictions against measurements. Rates are fractions (0.02 = 2 %).
struct AccuracyMetrics {
  int samples = 0;
  double rmse_ms = 0;       ///< sqrt(mean((pred - meas)^2)), ms
  double rmspe = 0;         ///< sqrt(mean(((pred - meas) / meas)^2))
  double within_5pct = 0;   ///< share with |pred - meas| <= 0.05 * meas
  double within_10pct = 0;  ///< share with |pred - meas| <= 0.10 * meas
  double kendall_tau = 0;   ///< Kendall's tau-b between pred and meas (ties counted as in tau-b)
  double spearman_rho = 0;  ///< Spearman's rank correlation (average ranks for ties)
};

/// Metrics of `predicted` against `measured` (same length >= 2, measured > 0). Throws
/// hwnas::Error otherwise.
AccuracyMetrics accuracy_metrics(const std::vector<double>& measured,
                                 const std::vector<double>& predicted);

/// The host's measurement noise as a ceiling for any predictor: for every pair (a, b) of timing
/// windows, the accuracy of window a's end-to-end medians as a "prediction" of window b's
/// (accuracy_metrics(window b, window a)) over all subnets, averaged over the pairs.
/// `window_ms[i]` holds subnet i's window medians (ms, same count >= 2 for every subnet).
/// A predictor is compared with the pooled windows, which are less noisy than one window, so
/// this is a conservative ceiling. Throws hwnas::Error if fewer than 2 subnets or windows.
AccuracyMetrics repeatability_metrics(const std::vector<std::vector<double>>& window_ms);

/// Pearson's correlation of two equally long sequences. 0 when either is constant. Throws
/// hwnas::Error on different lengths.
double pearson_r(const std::vector<double>& a, const std::vector<double>& b);

/// Spearman's rho of two equally long sequences: Pearson correlation of their ranks, tied
/// values taking their average rank. 0 when either is constant. Throws hwnas::Error on
/// different lengths.
double spearman_rho(const std::vector<double>& a, const std::vector<double>& b);

/// Kendall's tau-b of two equally long sequences (O(n^2); n is a few hundred). 0 when either is
/// constant.
double kendall_tau_b(const std::vector<double>& a, const std::vector<double>& b);

/// One validated subnet.
struct ValidationSample {
  nlohmann::json arch;  ///< SearchSpace::to_json
  int blocks = 0;
  std::int64_t macs = 0;
  double measured_ms = 0;  ///< end-to-end median (p10 with LatencyStatistic::p10)
  double measured_p10_ms = 0;
  double measured_p90_ms = 0;
  std::vector<double> window_ms;  ///< median of each timing window (empty over an agent)
  std::vector<double> window_p10_ms, window_min_ms;  ///< each window's p10 and minimum (idem)
  double predicted_ms = 0;                           ///< plain sum + overhead
  std::optional<double> corrected_ms;
  LatencyFeatures features;
  /// The space's reference time around this subnet's group (the median over the five groups
  /// nearest it, itself included) over its time when the rows were timed
  /// (ValidationOptions::space_reference): the device's speed (> 1: slower) when this subnet ran.
  std::optional<double> speed_factor;
  /// The prediction the noisy-host rule judges (ms): the corrected one where the report has a
  /// correction, else the plain sum, anchored to the space's reference
  /// (ValidationReport::reference_anchored_corrected, else reference_anchored). Absent where
  /// that predictor is not anchored (no space reference, or its prediction of it not positive).
  std::optional<double> anchored_ms;
};

/// The space's own reference (profilers/device_speed.h) as validation times it.
struct ValidationSpaceReference {
  Network network;      ///< decoded from the arch stored with the rows
  double build_ms = 0;  ///< its time stored with the rows (ms)
  /// The stored correction's LatencyCorrection::speed: the correction learned that run's speed
  /// with the rows' error, so the speed-calibrated figures divide it out.
  double correction_speed = 1.0;
};

struct ValidationOptions {
  int samples = 200;
  std::uint64_t seed = 0;
  int resolution = 224;
  TimingConfig timing;
  /// Each subnet is timed in this many windows, round-robin over groups of `group` subnets
  /// (Backend::measure_networks), as the profiler times table rows.
  int windows = 3;
  int group = 8;
  /// Which end-to-end statistic is "measured": the median (the method) or the p10 (to pair with
  /// a p10 predictor, see LatencyStatistic).
  LatencyStatistic statistic = LatencyStatistic::median;
  /// Fit a new correction on these samples. Its reported accuracy is then 5-fold
  /// cross-validated (each sample predicted by a model fitted without it), never in-sample.
  bool fit_correction = false;
  std::ostream* progress = nullptr;  ///< a line per ~10 % (stderr)
  /// Times the reference network (profilers/device_speed.h) once per group, as the profiler
  /// does once per batch of rows.
  bool time_reference = true;
  /// The reference time stored with the table's rows (stored_reference_ms), if any: the drift
  /// is then reported and the speed-calibrated metrics computed.
  std::optional<double> reference_build_ms;
  /// The space's own reference: timed as one more network inside every group's windows, so it
  /// shares their stretch of the host; each group's predictions are then scaled by its time
  /// over build_ms, the median over the five groups nearest it (a per-group duet calibration,
  /// issue 15 step 4).
  std::optional<ValidationSpaceReference> space_reference;
};

struct ValidationReport {
  std::vector<ValidationSample> samples;
  AccuracyMetrics plain;
  std::optional<AccuracyMetrics> corrected;
  /// Window against window (repeatability_metrics): how well the host reproduces its own
  /// end-to-end times; absent with one window or when the backend returns no window medians.
  std::optional<AccuracyMetrics> repeatability;
  /// "stored" (the table's correction, held-out on these samples), "cross-validated" (fit) or "".
  std::string correction_kind;
  std::optional<LatencyCorrection> fitted;  ///< fitted on all samples (fit_correction only)
  /// Window-to-window repeatability of each per-window estimator of end-to-end latency
  /// ("median", "p10", "min"; repeatability_metrics), so that the estimator is chosen by the
  /// repeatability it gives (issue 15, step 2); empty without window samples.
  std::vector<std::pair<std::string, AccuracyMetrics>> estimator_repeatability;
  /// The plain prediction's relative residuals attributed to block kinds (latency_residuals.h).
  std::vector<KindResidual> residuals;
  std::optional<double> reference_now_ms;    ///< median over this run's reference windows
  std::optional<double> reference_build_ms;  ///< as given in the options
  /// reference_now / reference_build - 1: how much slower (> 0) the device runs now than when
  /// the rows were timed.
  std::optional<double> drift;
  /// The plain predictions scaled by the device's speed: by each group's space-reference factor
  /// (ValidationSample::speed_factor) when the table stores the space's reference, else by
  /// (1 + drift) of the L1 reference. speed_calibration names which ("space reference, per
  /// group", "reference network" or "").
  std::optional<AccuracyMetrics> speed_calibrated;
  std::string speed_calibration;
  /// The corrected predictions scaled by the speed factors relative to the correction's own
  /// run (the fitting run's median factor, or ValidationSpaceReference::correction_speed for a
  /// stored correction); space reference only.
  std::optional<AccuracyMetrics> speed_calibrated_corrected;
  std::optional<double> space_reference_now_ms;    ///< median of the groups' reference times
  std::optional<double> space_reference_build_ms;  ///< ValidationSpaceReference::build_ms
  /// space_reference_now_ms / build_ms - 1: drift of the space's own reference.
  std::optional<double> space_drift;
  /// Per group, the space's reference's window medians (ms): the device's speed over the run,
  /// from which another calibration can be tried offline (empty without a space reference).
  std::vector<std::vector<double>> space_reference_windows_ms;
  /// This run's median speed factor, stored with a fitted correction as its speed()
  /// (fit_correction only; `fitted` itself keeps speed 1: it reports this run's times).
  std::optional<double> fit_speed;
  /// The table's own prediction of the space's reference (ms): the plain sum + overhead, and
  /// with the correction (the stored one, or the one fitted on all samples). Absent without a
  /// space reference.
  std::optional<double> space_reference_predicted_ms, space_reference_corrected_ms;
  /// The predictions anchored to the space's reference: each scaled by its group's reference
  /// time (the median over the five nearest groups, as speed_factor) over the same predictor's
  /// prediction of that reference, instead of over the reference's time when the rows were
  /// timed. On the family-25 EPYC the rows and the whole networks of one build were not slowed
  /// alike: hot rows kept their speed while the reference, timed in the same stretch, ran up to
  /// 1.41 times their prediction of it, so the build-time factor scaled the predictions the
  /// wrong way (the noisy-host rule held in 37 of 45 validations calibrated so, in 44 anchored;
  /// bench/README.md, "The noisy-host rule anchored to the space's reference"). It absorbs a
  /// level error of the table, which the plain and corrected metrics still show.
  std::optional<AccuracyMetrics> reference_anchored, reference_anchored_corrected;
};

/// The host's regime from its repeatability: "quiet" when two timing windows of the same subnet
/// agree within +-5 % for at least 95 % of subnets (issue 15's definition), "noisy" otherwise,
/// "unknown" without window medians (one window, or an agent that returns none).
std::string host_regime(const std::optional<AccuracyMetrics>& repeatability);

/// One line warning that `report`'s fitted correction (ValidationOptions::fit_correction) was
/// fitted while the host was noisy (host_regime), naming the share of subnets whose windows
/// agreed within 5 % and the fix (fit again in a quiet stretch); nullopt when nothing was
/// fitted or the regime is quiet or unknown. A correction learns its fit run's disturbance
/// with the rows' error: on the Zen 4 host in heavy noise (2026-12-08, fit runs with 22-71 % of
/// windows within 5 %), corrections fitted so made the held-out RMSPE worse in 15 of 30 checks
/// (bench/README.md, "The watcher on the Zen 4, 2026-12-08"). The correction is still stored:
/// in milder noise it mostly helped (12 of 18 checks on the family-25 EPYC). Never throws.
std::optional<std::string> noisy_fit_warning(const ValidationReport& report);

/// Draws options.samples archs of `space` at options.resolution (seeded), times each end to end
/// on `backend`, and compares with `predictor`. Throws hwnas::Error on missing table rows of a
/// subnet or of options.space_reference's network (before any timing) or on backend failures.
ValidationReport validate_latency(const SearchSpace& space, const LutLatencyPredictor& predictor,
                                  Backend& backend, const ValidationOptions& options);
/// The same for any predictor that sums table rows: `features` gives a network's per-kind sums,
/// whose plain_ms is the plain prediction (e.g. MixedPrecisionLatency::features); `corrected`
/// (null: none) predicts the corrected times reported when options.fit_correction is off.
ValidationReport validate_latency(const SearchSpace& space,
                                  const std::function<LatencyFeatures(const Network&)>& features,
                                  const LatencyPredictor* corrected, Backend& backend,
                                  const ValidationOptions& options);

/// JSON summary: {"samples","rmse_ms","rmspe","within_5pct","within_10pct","kendall_tau",
/// "spearman_rho", "corrected": {same fields} or null, "correction": "stored"|"cross-validated"|
/// null, "repeatability": {same fields} or null, "regime": host_regime, "noise_ratio": the plain
/// RMSPE over the window-to-window RMSPE (<= 1: the predictor is within the host's noise) or
/// null, "calibrated_noise_ratio": the same for the predictor (corrected if there is a
/// correction) calibrated per group by the space's reference, or null, "anchored_noise_ratio":
/// the same anchored to the space's reference (reference_anchored[_corrected]) or null,
/// "noisy_host_rule": "holds" | "fails" on a noisy host (the anchored ratio, else the calibrated
/// one, else the predictor's own, <= 1) or null, "residuals_by_kind": residuals_json,
/// "reference_now_ms",
/// "reference_build_ms", "drift", "space_reference_now_ms", "space_reference_build_ms",
/// "space_drift", "space_reference_windows_ms": [[ms, ..] per group], "speed_calibration",
/// "space_reference_predicted_ms", "space_reference_corrected_ms", "speed_calibrated",
/// "speed_calibrated_corrected", "reference_anchored", "reference_anchored_corrected":
/// {metrics} (each null when unknown),
/// "estimators": {"median"|"p10"|"min": {metrics}},
/// "most_repeatable_estimator": the one of lowest window-to-window RMSPE or null}.
nlohmann::json validation_summary_json(const ValidationReport& report);

/// Writes one CSV row per subnet (index, arch JSON, blocks, macs, measured/p10/p90, predicted,
/// corrected, relative errors, speed factor, anchored, and last "window_ms": the window medians
/// joined by ';', empty over an agent; times in ms) to `path` via a temporary file renamed into
/// place. Throws hwnas::Error if the file cannot be written.
void write_validation_csv(const ValidationReport& report, const std::string& path);

}  // namespace hwnas
