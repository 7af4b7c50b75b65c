// `hwnas validate`: compare a latency table's predictions with end-to-end measurements.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "apps/common.h"
#include "predictors/latency_validation.h"
#include "profilers/block_timing.h"
#include "profilers/profiler.h"
#include "results/table_validation.h"
#include "spaces/registry.h"

namespace hwnas::apps {
namespace {

class ValidateCommand final : public Command {
 public:
  void setup(CLI::App& app) override {
    app.footer(
        "Draws --samples random subnets (--seed), measures each end to end on the device the "
        "table was built on (the local engine at the table's thread count, the fake device, or "
        "--agent) and compares with the table's prediction. Rates are fractions (0.02 = 2 %). "
        "--fit-correction fits the learned correction on these subnets, reports its 5-fold "
        "cross-validated accuracy and stores it in the table (used by predict/search from then "
        "on); without it, a stored correction is evaluated on the new subnets.");
    add_space_option(app, space_);
    app.add_option("--db", db_, "latency table file")->capture_default_str();
    app.add_option("--device", device_, "device name in the table")->capture_default_str();
    depthwise_opt_ = add_depthwise_option(
        app, depthwise_,
        "a +precision space's int8 stages read and are timed as the twin DEVICE-int8, "
        "DEVICE-int8-dwfaster or DEVICE-int8-dwfp32");
    app.add_option("--samples", samples_, "random subnets to measure")->required();
    app.add_option("--seed", seed_, "seed of the subnets")->required();
    app.add_option("--resolution", resolution_,
                   "input resolution of the subnets (default: 224 if the space allows it, else "
                   "its first)");
    app.add_option("--csv", csv_, "write one row per subnet to this CSV file");
    app.add_option("--html", html_,
                   "write a report to this HTML file: predicted (plain, corrected, anchored) "
                   "against measured with the +-5 % and +-10 % bands, the residual by block "
                   "kind, the summary");
    app.add_flag(
        "--json", json_,
        "print {\"samples\", \"rmse_ms\", \"rmspe\", \"within_5pct\", \"within_10pct\", "
        "\"kendall_tau\", \"spearman_rho\", \"corrected\": {same} | null, \"repeatability\": "
        "{same} | null, \"regime\": quiet|noisy|unknown, \"noise_ratio\", "
        "\"residuals_by_kind\": [..], ...}; repeatability compares the timing windows "
        "with each other (host noise); quiet means windows agree within 5 % for >= 95 % "
        "of subnets");
    app.add_flag("--fit-correction", fit_, "fit and store the learned correction");
    app.add_option("--backend", backend_,
                   "auto (the table's device kind), local, onnxruntime or fake")
        ->check(CLI::IsMember({"auto", "local", "onnxruntime", "fake"}))
        ->capture_default_str();
    app.add_option("--agent", agent_, "measure through `hwnas agent` at http://HOST:PORT");
    app.add_option("--token", token_, "bearer token of the agent");
    app.add_option("--statistic", statistic_,
                   "median (the method) or p10 (diagnostic on a noisy shared machine: table p10 "
                   "sums against end-to-end p10)")
        ->check(CLI::IsMember({"median", "p10"}))
        ->capture_default_str();
    add_timing_options(app, "subnet", timing_, windows_);
    app.add_option("--group", group_,
                   "subnets timed together, their windows in turn: a larger group spreads a "
                   "subnet's windows over more time, so a slow stretch of the host hits fewer")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
  }

  int run() override {
    TableValidationConfig c;
    c.space = space_;
    c.db = db_;
    c.device = device_;
    c.samples = samples_;
    c.seed = seed_;
    c.resolution = resolution_;
    c.backend = backend_;
    c.agent = agent_;
    c.token = token_;
    c.statistic = statistic_ == "p10" ? LatencyStatistic::p10 : LatencyStatistic::median;
    c.fit_correction = fit_;
    c.timing = timing_;
    c.windows = windows_;
    c.group = group_;
    c.mixed_int8_precision =
        mixed_int8_precision(get_space(space_), depthwise_, depthwise_opt_->count() > 0);
    c.csv = csv_;
    c.html = html_;
    c.log = &std::cerr;
    const TableValidationResult result = validate_table(c);
    const ValidationReport& rep = result.report;
    const nlohmann::json& j = result.summary;
    if (const auto warning = noisy_fit_warning(rep)) std::fprintf(stderr, "%s\n", warning->c_str());
    if (json_) {
      std::cout << j.dump() << "\n";
      return 0;
    }
    auto line = [](const char* what, const AccuracyMetrics& m) {
      std::printf(
          "%-26s RMSE %.4f ms  RMSPE %.2f %%  within 5 %%: %.1f %%  within 10 %%: %.1f %%  "
          "Kendall tau %.4f  Spearman rho %.4f\n",
          what, m.rmse_ms, 100 * m.rmspe, 100 * m.within_5pct, 100 * m.within_10pct, m.kendall_tau,
          m.spearman_rho);
    };
    std::printf("%d subnets of %s on device '%s' (%d threads)\n", rep.plain.samples,
                result.space.c_str(), device_.c_str(), result.threads);
    line("plain sum + overhead:", rep.plain);
    if (rep.corrected)
      line(
          rep.correction_kind == "stored" ? "with stored correction:" : "with correction (5-fold):",
          *rep.corrected);
    if (rep.speed_calibrated) line("speed-calibrated sum:", *rep.speed_calibrated);
    if (rep.speed_calibrated_corrected)
      line("speed-calibrated corrected:", *rep.speed_calibrated_corrected);
    if (rep.reference_anchored) line("anchored to the reference:", *rep.reference_anchored);
    if (rep.reference_anchored_corrected)
      line("anchored, corrected:", *rep.reference_anchored_corrected);
    if (rep.repeatability) line("window vs window (noise):", *rep.repeatability);
    for (const auto& [name, m] : rep.estimator_repeatability)
      std::printf("window vs window, %-6s    RMSPE %.2f %%  within 5 %%: %.1f %%\n", name.c_str(),
                  100 * m.rmspe, 100 * m.within_5pct);
    std::printf("host regime: %s", host_regime(rep.repeatability).c_str());
    if (!j["noise_ratio"].is_null())
      std::printf(" (predictor RMSPE / window-to-window RMSPE = %.2f",
                  j["noise_ratio"].get<double>());
    if (!j["calibrated_noise_ratio"].is_null())
      std::printf("; speed-calibrated %.2f", j["calibrated_noise_ratio"].get<double>());
    if (!j["anchored_noise_ratio"].is_null())
      std::printf("; anchored to the space's reference %.2f",
                  j["anchored_noise_ratio"].get<double>());
    if (!j["noise_ratio"].is_null()) std::printf(")");
    if (!j["noisy_host_rule"].is_null())
      std::printf("; the noisy-host rule %s", j["noisy_host_rule"].get<std::string>().c_str());
    if (rep.drift)
      std::printf(
          "\ndevice speed: reference %.3f ms now, %.3f ms when the rows were timed "
          "(drift %+.1f %%)",
          *rep.reference_now_ms, *rep.reference_build_ms, 100 * *rep.drift);
    if (rep.space_drift)
      std::printf(
          "\nthe space's own reference: %.3f ms now (median over groups), %.3f ms when the rows "
          "were timed (drift %+.1f %%); speed calibration: %s",
          *rep.space_reference_now_ms, *rep.space_reference_build_ms, 100 * *rep.space_drift,
          rep.speed_calibration.c_str());
    if (rep.space_reference_predicted_ms)
      std::printf("; the table predicts it at %.3f ms", *rep.space_reference_predicted_ms);
    std::printf("\nresidual by block kind (the kind's rows off by, share of the prediction):");
    for (const auto& r : rep.residuals) {
      if (r.identified)
        std::printf("  %s %+.1f %% (%.0f %%)", r.kind.c_str(), 100 * r.relative_error,
                    100 * r.mean_share);
      else
        std::printf("  %s not separable (%.0f %%)", r.kind.c_str(), 100 * r.mean_share);
    }
    std::printf("\n");
    if (result.block_timing && result.block_timing->suggested) {
      const BlockTimingSecondOpinion& b = *result.block_timing;
      std::printf(
          "block timing: the rows are timed %s (chosen by the probe%s) and predict %.2f times the "
          "measured times; %s rows would predict about %.2f: profile this space into a new "
          "table (another --db) as this one was, with `--block-timing %s`\n",
          block_timing_name(b.chosen).c_str(), b.within_noise ? ", within the host's noise" : "",
          b.measured_ratio, block_timing_name(*b.suggested).c_str(), b.other_ratio,
          block_timing_name(*b.suggested).c_str());
    }
    if (rep.fitted)
      std::printf("correction fitted on all %d subnets and stored in %s\n", rep.plain.samples,
                  db_.c_str());
    return 0;
  }

 private:
  std::string space_, db_ = "hwnas.db", device_ = "host", csv_, html_, backend_ = "auto", agent_,
                      token_, statistic_ = "median";
  int samples_ = 0, resolution_ = 0;
  std::uint64_t seed_ = 0;
  bool json_ = false, fit_ = false;
  std::string depthwise_;
  CLI::Option* depthwise_opt_ = nullptr;
  TimingConfig timing_ = default_profile_timing();
  int windows_ = 3;
  int group_ = 8;
};

HWNAS_REGISTER_COMMAND(ValidateCommand, "validate",
                       "Compare table predictions with end-to-end measurements of random subnets");

}  // namespace
}  // namespace hwnas::apps
