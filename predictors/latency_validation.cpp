#include "predictors/latency_validation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "profilers/device_speed.h"
#include "profilers/profiler.h"

namespace hwnas {

double kendall_tau_b(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw Error("kendall tau: sequences of different length");
  const std::size_t n = a.size();
  long long concordant = 0, discordant = 0, ties_a = 0, ties_b = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0 && db == 0) continue;  // tied in both: in neither denominator term
      if (da == 0) {
        ++ties_a;
        continue;
      }
      if (db == 0) {
        ++ties_b;
        continue;
      }
      if ((da > 0) == (db > 0))
        ++concordant;
      else
        ++discordant;
    }
  const double n0a = static_cast<double>(concordant + discordant + ties_a);
  const double n0b = static_cast<double>(concordant + discordant + ties_b);
  if (n0a == 0 || n0b == 0) return 0.0;
  return static_cast<double>(concordant - discordant) / std::sqrt(n0a * n0b);
}

namespace {
// 1-based ranks, ties sharing their average rank.
std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> rank(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double r = 0.5 * static_cast<double>(i + j) + 1.0;
    for (std::size_t k = i; k <= j; ++k) rank[order[k]] = r;
    i = j + 1;
  }
  return rank;
}
}  // namespace

double pearson_r(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw Error("pearson r: sequences of different length");
  const double n = static_cast<double>(a.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
  ma /= n, mb /= n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

double spearman_rho(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw Error("spearman rho: sequences of different length");
  return pearson_r(average_ranks(a), average_ranks(b));
}

std::string host_regime(const std::optional<AccuracyMetrics>& repeatability) {
  if (!repeatability) return "unknown";
  return repeatability->within_5pct >= 0.95 ? "quiet" : "noisy";
}

std::optional<std::string> noisy_fit_warning(const ValidationReport& report) {
  if (!report.fitted || host_regime(report.repeatability) != "noisy") return std::nullopt;
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "warning: the correction was fitted while the host was noisy (%.0f %% of the "
                "subnets' windows agreed within 5 %%; quiet needs 95 %%): it learns that run's "
                "disturbance with the rows' error; fit it again in a quiet stretch",
                100 * report.repeatability->within_5pct);
  return std::string(buf);
}

AccuracyMetrics accuracy_metrics(const std::vector<double>& measured,
                                 const std::vector<double>& predicted) {
  if (measured.size() != predicted.size())
    throw Error("accuracy metrics: measured and predicted differ in length");
  if (measured.size() < 2) throw Error("accuracy metrics need at least 2 samples");
  AccuracyMetrics m;
  m.samples = static_cast<int>(measured.size());
  double se = 0, spe = 0;
  int in5 = 0, in10 = 0;
  for (std::size_t i = 0; i < measured.size(); ++i) {
    if (!(measured[i] > 0)) throw Error("accuracy metrics: measured latency must be > 0");
    const double e = predicted[i] - measured[i];
    const double rel = std::abs(e) / measured[i];
    se += e * e;
    spe += rel * rel;
    in5 += rel <= 0.05;
    in10 += rel <= 0.10;
  }
  const double n = static_cast<double>(measured.size());
  m.rmse_ms = std::sqrt(se / n);
  m.rmspe = std::sqrt(spe / n);
  m.within_5pct = in5 / n;
  m.within_10pct = in10 / n;
  m.kendall_tau = kendall_tau_b(predicted, measured);
  m.spearman_rho = spearman_rho(predicted, measured);
  return m;
}

AccuracyMetrics repeatability_metrics(const std::vector<std::vector<double>>& window_ms) {
  if (window_ms.size() < 2) throw Error("repeatability needs at least 2 subnets");
  const std::size_t windows = window_ms.front().size();
  if (windows < 2) throw Error("repeatability needs at least 2 timing windows (--windows)");
  for (const auto& w : window_ms)
    if (w.size() != windows) throw Error("repeatability: subnets have different window counts");
  AccuracyMetrics mean;
  int pairs = 0;
  for (std::size_t a = 0; a < windows; ++a)
    for (std::size_t b = a + 1; b < windows; ++b) {
      std::vector<double> pa, pb;
      for (const auto& w : window_ms) pa.push_back(w[a]), pb.push_back(w[b]);
      const AccuracyMetrics m = accuracy_metrics(pb, pa);
      mean.rmse_ms += m.rmse_ms;
      mean.rmspe += m.rmspe;
      mean.within_5pct += m.within_5pct;
      mean.within_10pct += m.within_10pct;
      mean.kendall_tau += m.kendall_tau;
      mean.spearman_rho += m.spearman_rho;
      ++pairs;
    }
  mean.samples = static_cast<int>(window_ms.size());
  for (double* f : {&mean.rmse_ms, &mean.rmspe, &mean.within_5pct, &mean.within_10pct,
                    &mean.kendall_tau, &mean.spearman_rho})
    *f /= pairs;
  return mean;
}

namespace {
// Each prediction times its group's reference time (speed_factor * build_ms) over the same
// predictor's prediction of the reference: nullopt when that prediction is not positive.
std::optional<std::vector<double>> anchored_to_reference(const ValidationReport& rep,
                                                         const std::vector<double>& predicted,
                                                         double reference_predicted_ms) {
  if (!(reference_predicted_ms > 0) || !rep.space_reference_build_ms) return std::nullopt;
  std::vector<double> out;
  for (std::size_t i = 0; i < predicted.size(); ++i)
    out.push_back(predicted[i] * *rep.samples[i].speed_factor * *rep.space_reference_build_ms /
                  reference_predicted_ms);
  return out;
}
}  // namespace

ValidationReport validate_latency(const SearchSpace& space, const LutLatencyPredictor& predictor,
                                  Backend& backend, const ValidationOptions& opt) {
  return validate_latency(
      space, [&](const Network& net) { return predictor.features(net); },
      predictor.has_correction() ? &predictor : nullptr, backend, opt);
}

ValidationReport validate_latency(const SearchSpace& space,
                                  const std::function<LatencyFeatures(const Network&)>& features,
                                  const LatencyPredictor* corrected, Backend& backend,
                                  const ValidationOptions& opt) {
  if (opt.samples < 2) throw Error("--samples must be >= 2");
  if (opt.fit_correction && opt.samples < 10)
    throw Error("--fit-correction needs --samples >= 10 (5-fold cross-validation)");
  Rng rng(opt.seed);
  std::vector<Network> nets;
  ValidationReport rep;
  for (int i = 0; i < opt.samples; ++i) {
    const Arch a = sample_at_resolution(space, rng, opt.resolution);
    Network net = space.decode(a);
    ValidationSample s;
    s.arch = space.to_json(a);
    s.blocks = static_cast<int>(net.blocks.size());
    s.macs = net.macs();
    s.features = features(net);  // throws on missing rows before any timing
    s.predicted_ms = s.features.plain_ms;
    rep.samples.push_back(std::move(s));
    nets.push_back(std::move(net));
  }
  // The reference's own prediction anchors the predictions to it (reference_anchored); read
  // before any timing, as the subnets' rows are.
  std::optional<LatencyFeatures> reference_features;
  if (opt.space_reference) reference_features = features(opt.space_reference->network);
  int next_pct = 10;
  const std::size_t group = static_cast<std::size_t>(std::max(1, opt.group));
  ReferenceTimer reference(backend);
  std::vector<double> space_group_ms;
  for (std::size_t g = 0; g < nets.size(); g += group) {
    if (opt.time_reference) reference.time_window();
    std::vector<Network> part(
        nets.begin() + static_cast<std::ptrdiff_t>(g),
        nets.begin() + static_cast<std::ptrdiff_t>(std::min(nets.size(), g + group)));
    const std::size_t subnets = part.size();
    // The space's reference runs in the same windows as the group's subnets: a reference timed
    // before the group missed the host's slow stretches within it (bench/README.md).
    if (opt.space_reference) part.push_back(opt.space_reference->network);
    const auto stats = backend.measure_networks(part, opt.timing, std::max(1, opt.windows));
    if (opt.space_reference) {
      space_group_ms.push_back(stats.at(subnets).median_ms);
      rep.space_reference_windows_ms.push_back(stats.at(subnets).window_medians_ms);
    }
    for (std::size_t k = 0; k < subnets; ++k) {
      const TimingStats& t = stats.at(k);
      ValidationSample& s = rep.samples[g + k];
      s.measured_ms = opt.statistic == LatencyStatistic::p10 ? t.p10_ms : t.median_ms;
      s.measured_p10_ms = t.p10_ms;
      s.measured_p90_ms = t.p90_ms;
      s.window_ms = t.window_medians_ms;
      s.window_p10_ms = t.window_p10_ms;
      s.window_min_ms = t.window_min_ms;
    }
    const std::size_t done = g + subnets;
    const int pct = static_cast<int>(100.0 * done / nets.size());
    if (opt.progress && (pct >= next_pct || done == nets.size())) {
      *opt.progress << "validate: " << done << "/" << nets.size() << " subnets measured\n"
                    << std::flush;
      next_pct = pct + 10;
    }
  }
  std::vector<double> meas, plain;
  std::vector<LatencyFeatures> feats;
  for (const auto& s : rep.samples) {
    meas.push_back(s.measured_ms);
    plain.push_back(s.predicted_ms);
    feats.push_back(s.features);
  }
  rep.plain = accuracy_metrics(meas, plain);
  rep.residuals = residuals_by_kind(feats, meas);
  if (!reference.window_ms().empty()) rep.reference_now_ms = reference.median_ms();
  rep.reference_build_ms = opt.reference_build_ms;
  if (rep.reference_now_ms && rep.reference_build_ms)
    rep.drift = *rep.reference_now_ms / *rep.reference_build_ms - 1.0;
  if (opt.space_reference) {
    // A group's factor is the median of the reference times of the five groups nearest it
    // (itself and two on each side; the first or last five at the ends). A burst that hit the
    // 0.2 ms reference's windows but not its group's subnets rescaled 8 subnets by 1.22 (int8
    // efficientformer-fmnist); the host's slow phases last several groups and survive the
    // median. Over 27 noisy runs of 8 tables, the runs whose calibrated predictor missed the
    // noisy-host rule fell from 3 (worst 1.18) to none (worst 0.77); three groups left one
    // (1.04) (bench/README.md, issue 15).
    constexpr std::size_t kNearest = 5;
    const std::size_t groups = space_group_ms.size();
    for (std::size_t g = 0; g < groups; ++g) {
      const std::size_t first =
          groups < kNearest ? 0
                            : std::min(g > kNearest / 2 ? g - kNearest / 2 : 0, groups - kNearest);
      std::vector<double> nearest(
          space_group_ms.begin() + static_cast<std::ptrdiff_t>(first),
          space_group_ms.begin() + static_cast<std::ptrdiff_t>(std::min(groups, first + kNearest)));
      const double factor =
          summarize_ms(std::move(nearest)).median_ms / opt.space_reference->build_ms;
      for (std::size_t k = g * group; k < std::min(rep.samples.size(), (g + 1) * group); ++k)
        rep.samples[k].speed_factor = factor;
    }
    rep.space_reference_now_ms = summarize_ms(space_group_ms).median_ms;
    rep.space_reference_build_ms = opt.space_reference->build_ms;
    rep.space_drift = *rep.space_reference_now_ms / opt.space_reference->build_ms - 1.0;
    std::vector<double> scaled;
    for (const auto& s : rep.samples) scaled.push_back(s.predicted_ms * *s.speed_factor);
    rep.speed_calibrated = accuracy_metrics(meas, scaled);
    rep.speed_calibration = "space reference, per group";
    rep.space_reference_predicted_ms = reference_features->plain_ms;
    if (const auto anchored = anchored_to_reference(rep, plain, reference_features->plain_ms)) {
      rep.reference_anchored = accuracy_metrics(meas, *anchored);
      for (std::size_t i = 0; i < anchored->size(); ++i)
        rep.samples[i].anchored_ms = (*anchored)[i];
    }
  } else if (rep.drift) {
    std::vector<double> scaled;
    for (double p : plain) scaled.push_back(p * (1.0 + *rep.drift));
    rep.speed_calibrated = accuracy_metrics(meas, scaled);
    rep.speed_calibration = "reference network";
  }
  // Window-to-window agreement of a per-window statistic over the subnets, when every subnet
  // has the same number (>= 2) of windows.
  auto agreement =
      [&](std::vector<double> ValidationSample::*field) -> std::optional<AccuracyMetrics> {
    std::vector<std::vector<double>> windows;
    for (const auto& s : rep.samples) windows.push_back(s.*field);
    if (windows.front().size() >= 2 &&
        std::all_of(windows.begin(), windows.end(),
                    [&](const auto& w) { return w.size() == windows.front().size(); }))
      return repeatability_metrics(windows);
    return std::nullopt;
  };
  rep.repeatability = agreement(&ValidationSample::window_ms);
  for (const auto& [name, field] : {std::pair{"median", &ValidationSample::window_ms},
                                    std::pair{"p10", &ValidationSample::window_p10_ms},
                                    std::pair{"min", &ValidationSample::window_min_ms}})
    if (const auto m = agreement(field)) rep.estimator_repeatability.emplace_back(name, *m);

  if (opt.fit_correction) {
    // 5-fold cross-validation: each sample is predicted by a model that never saw it, its ridge
    // penalty chosen inside the training folds (nested), as the stored fit chooses it on all.
    const std::vector<double> cv = cross_validated_predictions(
        feats, meas, 5,
        [](const auto& f, const auto& m) { return LatencyCorrection::fit_cross_validated(f, m); });
    for (std::size_t i = 0; i < rep.samples.size(); ++i) rep.samples[i].corrected_ms = cv[i];
    rep.fitted = LatencyCorrection::fit_cross_validated(feats, meas);
    rep.correction_kind = "cross-validated";
  } else if (corrected) {
    for (std::size_t i = 0; i < rep.samples.size(); ++i)
      rep.samples[i].corrected_ms = corrected->predict_ms(nets[i]);
    rep.correction_kind = "stored";
  }
  if (!rep.correction_kind.empty()) {
    std::vector<double> corr;
    for (const auto& s : rep.samples) corr.push_back(*s.corrected_ms);
    rep.corrected = accuracy_metrics(meas, corr);
    if (opt.space_reference) {
      // A correction carries the speed of the run it was fitted on: this run's for the
      // cross-validated fit, the stored run's otherwise.
      std::vector<double> factors;
      for (const auto& s : rep.samples) factors.push_back(*s.speed_factor);
      const double median_factor = summarize_ms(factors).median_ms;
      if (rep.fitted) rep.fit_speed = median_factor;
      const double own = rep.fitted ? median_factor : opt.space_reference->correction_speed;
      std::vector<double> scaled;
      for (const auto& s : rep.samples) scaled.push_back(*s.corrected_ms * *s.speed_factor / own);
      rep.speed_calibrated_corrected = accuracy_metrics(meas, scaled);
      const double reference_corrected = rep.fitted
                                             ? rep.fitted->apply(*reference_features)
                                             : corrected->predict_ms(opt.space_reference->network);
      rep.space_reference_corrected_ms = reference_corrected;
      // The rule judges the corrected predictor from here on, anchored or not at all.
      const auto anchored = anchored_to_reference(rep, corr, reference_corrected);
      if (anchored) rep.reference_anchored_corrected = accuracy_metrics(meas, *anchored);
      for (std::size_t i = 0; i < rep.samples.size(); ++i)
        rep.samples[i].anchored_ms =
            anchored ? std::optional<double>((*anchored)[i]) : std::nullopt;
    }
  }
  return rep;
}

namespace {
nlohmann::json metrics_json(const AccuracyMetrics& m) {
  return {{"samples", m.samples},
          {"rmse_ms", m.rmse_ms},
          {"rmspe", m.rmspe},
          {"within_5pct", m.within_5pct},
          {"within_10pct", m.within_10pct},
          {"kendall_tau", m.kendall_tau},
          {"spearman_rho", m.spearman_rho}};
}
}  // namespace

nlohmann::json validation_summary_json(const ValidationReport& r) {
  nlohmann::json j = metrics_json(r.plain);
  j["corrected"] = r.corrected ? metrics_json(*r.corrected) : nlohmann::json(nullptr);
  j["correction"] =
      r.correction_kind.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.correction_kind);
  j["repeatability"] = r.repeatability ? metrics_json(*r.repeatability) : nlohmann::json(nullptr);
  j["regime"] = host_regime(r.repeatability);
  j["noise_ratio"] = r.repeatability && r.repeatability->rmspe > 0
                         ? nlohmann::json(r.plain.rmspe / r.repeatability->rmspe)
                         : nlohmann::json(nullptr);
  j["residuals_by_kind"] = residuals_json(r.residuals);
  auto opt_num = [](const std::optional<double>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  j["reference_now_ms"] = opt_num(r.reference_now_ms);
  j["reference_build_ms"] = opt_num(r.reference_build_ms);
  j["drift"] = opt_num(r.drift);
  j["space_reference_now_ms"] = opt_num(r.space_reference_now_ms);
  j["space_reference_build_ms"] = opt_num(r.space_reference_build_ms);
  j["space_drift"] = opt_num(r.space_drift);
  j["space_reference_windows_ms"] = r.space_reference_windows_ms;
  j["speed_calibration"] =
      r.speed_calibration.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.speed_calibration);
  auto opt_metrics = [](const std::optional<AccuracyMetrics>& m) {
    return m ? metrics_json(*m) : nlohmann::json(nullptr);
  };
  j["speed_calibrated"] = opt_metrics(r.speed_calibrated);
  j["speed_calibrated_corrected"] = opt_metrics(r.speed_calibrated_corrected);
  j["space_reference_predicted_ms"] = opt_num(r.space_reference_predicted_ms);
  j["space_reference_corrected_ms"] = opt_num(r.space_reference_corrected_ms);
  j["reference_anchored"] = opt_metrics(r.reference_anchored);
  j["reference_anchored_corrected"] = opt_metrics(r.reference_anchored_corrected);
  // Issue 15's rule for a noisy host: the table's predictor (corrected where it has a
  // correction) is no worse than the host's window-to-window error. Where the table stores the
  // space's reference, the predictor is judged anchored to it in each group (the calibration by
  // its build-time speed is reported); L1's single drift is reported but not used, as it missed
  // the slow phases the rule failed in.
  const AccuracyMetrics& predictor = r.corrected ? *r.corrected : r.plain;
  const std::optional<AccuracyMetrics>& calibrated =
      r.corrected ? r.speed_calibrated_corrected : r.speed_calibrated;
  const std::optional<AccuracyMetrics>& anchored =
      r.corrected ? r.reference_anchored_corrected : r.reference_anchored;
  const bool per_group = r.space_drift.has_value() && calibrated.has_value();
  const bool have_noise = r.repeatability && r.repeatability->rmspe > 0;
  j["calibrated_noise_ratio"] = per_group && have_noise
                                    ? nlohmann::json(calibrated->rmspe / r.repeatability->rmspe)
                                    : nlohmann::json(nullptr);
  j["anchored_noise_ratio"] = anchored && have_noise
                                  ? nlohmann::json(anchored->rmspe / r.repeatability->rmspe)
                                  : nlohmann::json(nullptr);
  const double rule_rmspe = anchored    ? anchored->rmspe
                            : per_group ? calibrated->rmspe
                                        : predictor.rmspe;
  j["noisy_host_rule"] =
      j["regime"] != "noisy" || !have_noise
          ? nlohmann::json(nullptr)
          : nlohmann::json(rule_rmspe / r.repeatability->rmspe <= 1.0 ? "holds" : "fails");
  j["estimators"] = nlohmann::json::object();
  j["most_repeatable_estimator"] = nullptr;
  double best = 0;
  for (const auto& [name, m] : r.estimator_repeatability) {
    j["estimators"][name] = metrics_json(m);
    if (j["most_repeatable_estimator"].is_null() || m.rmspe < best)
      j["most_repeatable_estimator"] = name, best = m.rmspe;
  }
  return j;
}

void write_validation_csv(const ValidationReport& r, const std::string& path) {
  std::ostringstream out;
  {
    out << "index,arch,blocks,macs,measured_ms,measured_p10_ms,measured_p90_ms,predicted_ms,"
           "error_pct,corrected_ms,corrected_error_pct,speed_factor,anchored_ms,window_ms\n";
    char buf[256];
    for (std::size_t i = 0; i < r.samples.size(); ++i) {
      const auto& s = r.samples[i];
      std::string arch = s.arch.dump();
      std::string quoted = "\"";
      for (char c : arch) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      quoted += "\"";
      out << i << ',' << quoted << ',';
      std::snprintf(buf, sizeof buf, "%d,%lld,%.6f,%.6f,%.6f,%.6f,%.4f,", s.blocks,
                    static_cast<long long>(s.macs), s.measured_ms, s.measured_p10_ms,
                    s.measured_p90_ms, s.predicted_ms,
                    100.0 * (s.predicted_ms - s.measured_ms) / s.measured_ms);
      out << buf;
      if (s.corrected_ms) {
        std::snprintf(buf, sizeof buf, "%.6f,%.4f", *s.corrected_ms,
                      100.0 * (*s.corrected_ms - s.measured_ms) / s.measured_ms);
        out << buf;
      } else {
        out << ",";
      }
      out << ',';
      const char* separator = "";
      for (const std::optional<double>& value : {s.speed_factor, s.anchored_ms}) {
        out << separator;
        separator = ",";
        if (value) {
          std::snprintf(buf, sizeof buf, "%.6f", *value);
          out << buf;
        }
      }
      // The window medians, so that a reference pooled from fewer windows (how far the
      // figures are bound by the measurement's own noise) can be replayed offline.
      out << ',';
      for (std::size_t w = 0; w < s.window_ms.size(); ++w) {
        std::snprintf(buf, sizeof buf, "%s%.6f", w ? ";" : "", s.window_ms[w]);
        out << buf;
      }
      out << "\n";
    }
  }
  write_file_atomic(path, out.str());
}

}  // namespace hwnas
