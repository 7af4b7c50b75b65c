// `hwnas validate`: compare a latency table's predictions with end-to-end measurements.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "apps/common.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "predictors/latency_validation.h"
#include "profilers/agent_backend.h"
#include "profilers/backend_registry.h"
#include "profilers/block_timing_choice.h"
#include "profilers/device_speed.h"
#include "profilers/fake_backend.h"
#include "profilers/local_backend.h"
#include "profilers/profiler.h"
#include "results/validation_report.h"
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
    app.add_option("--samples", samples_, "random subnets to measure")->required();
    app.add_option("--seed", seed_, "seed of the subnets")->required();
    app.add_option("--resolution", resolution_,
                   "input resolution of the subnets (default: 224 if the space allows it, else "
                   "its first)");
    app.add_option("--csv", csv_, "write one row per subnet to this CSV file");
    app.add_option("--html", html_,
                   "write a report to this HTML file: predicted against measured with the +-5 % "
                   "and +-10 % bands, the residual by block kind, the summary");
    app.add_flag(
        "--json", json_,
        "print {\"samples\", \"rmse_ms\", \"rmspe\", \"within_5pct\", \"within_10pct\", "
        "\"kendall_tau\", \"spearman_rho\", \"corrected\": {same} | null, \"repeatability\": "
        "{same} | null, \"regime\": quiet|noisy|unknown, \"noise_ratio\", "
        "\"residuals_by_kind\": [..], ...}; repeatability compares the timing windows "
        "with each other (host noise); quiet means windows agree within 5 % for >= 95 % "
        "of subnets");
    app.add_flag("--fit-correction", fit_, "fit and store the learned correction");
    app.add_option("--backend", backend_, "auto (the table's device kind), local or fake")
        ->check(CLI::IsMember({"auto", "local", "fake"}))
        ->capture_default_str();
    app.add_option("--agent", agent_, "measure through `hwnas agent` at http://HOST:PORT");
    app.add_option("--token", token_, "bearer token of the agent");
    app.add_option("--statistic", statistic_,
                   "median (the method) or p10 (diagnostic on a noisy shared machine: table p10 "
                   "sums against end-to-end p10)")
        ->check(CLI::IsMember({"median", "p10"}))
        ->capture_default_str();
    add_timing_options(app, "subnet", timing_, windows_);
  }

  int run() override {
    const SearchSpace& space = get_space(space_);
    const LatencyStatistic stat =
        statistic_ == "p10" ? LatencyStatistic::p10 : LatencyStatistic::median;
    if (stat == LatencyStatistic::p10 && fit_)
      throw Error("--fit-correction fits the median predictor; drop --statistic p10");
    const auto pred = LutLatencyPredictor::open(db_, device_, stat);
    const DeviceProfile stored =
        *LatencyTable(db_, LatencyTable::Mode::read_only).find_device(device_);
    std::unique_ptr<Backend> backend;
    // auto: the backend the stored profile names (a fake table's formula and seed, else the
    // engine); an agent URL wins over everything.
    BackendSpec spec = backend_for_device(stored, agent_, token_);
    if (!agent_.empty()) {
      spec.name = "agent";
      spec.url = agent_;
      spec.token = token_;
    } else if (backend_ != "auto") {
      spec.name = backend_;
    }
    // Only whole networks are timed here; the block timing names the rows being validated.
    if (const auto mode = stored_block_timing(LatencyTable(db_, LatencyTable::Mode::read_only),
                                              device_, space.name()))
      spec.block_timing = *mode;
    backend = make_backend(spec);
    // End-to-end times only mean something on the device the table describes.
    DeviceProfile here = backend->device(device_);
    if (here.runtime != stored.runtime) {
      std::cerr << "warning: the table was built by " << stored.runtime << ", measuring with "
                << here.runtime << "\n";
      here.runtime = stored.runtime;
    }
    if (const std::string d = stored.diff(here); !d.empty())
      throw Error("device '" + device_ + "' in " + db_ + " differs from the measuring backend " +
                  backend->name() + " (" + d + "); validate where the table was built (--agent)");

    ValidationOptions vo;
    vo.samples = samples_;
    vo.seed = seed_;
    vo.resolution = resolution_ ? resolution_ : default_resolution(space);
    vo.timing = timing_;
    vo.windows = windows_;
    vo.fit_correction = fit_;
    vo.statistic = stat;
    vo.progress = &std::cerr;
    vo.reference_build_ms = stored_reference_ms(LatencyTable(db_, LatencyTable::Mode::read_only),
                                                device_, space.name());
    const ValidationReport rep = validate_latency(space, *pred, *backend, vo);
    if (rep.fitted) {
      LatencyTable table(db_, LatencyTable::Mode::read_write);
      nlohmann::json c = rep.fitted->to_json();
      c["cv_rmspe"] = rep.corrected->rmspe;
      c["plain_rmspe"] = rep.plain.rmspe;
      table.set_calibration(device_, "correction", c);
    }
    if (!csv_.empty()) write_validation_csv(rep, csv_);
    nlohmann::json j = validation_summary_json(rep);
    j["device"] = device_;
    j["db"] = db_;
    j["backend"] = backend->name();
    j["threads"] = stored.threads;
    j["statistic"] = statistic_;
    j["correction_stored"] = rep.fitted.has_value();
    if (!html_.empty()) {
      ValidationReportData d;
      d.title = std::to_string(rep.plain.samples) + " subnets of " + space.name() + " at " +
                std::to_string(vo.resolution) + " on device '" + device_ + "'";
      d.summary = j;
      for (const auto& smp : rep.samples)
        d.measured_ms.push_back(smp.measured_ms), d.predicted_ms.push_back(smp.predicted_ms);
      for (const auto& r : rep.residuals)
        if (r.identified) d.residuals.push_back({r.kind, r.mean_share, r.relative_error});
      write_file_atomic(html_, render_validation_html(d));
    }
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
                space.name().c_str(), device_.c_str(), stored.threads);
    line("plain sum + overhead:", rep.plain);
    if (rep.corrected)
      line(
          rep.correction_kind == "stored" ? "with stored correction:" : "with correction (5-fold):",
          *rep.corrected);
    if (rep.speed_calibrated) line("speed-calibrated sum:", *rep.speed_calibrated);
    if (rep.repeatability) line("window vs window (noise):", *rep.repeatability);
    for (const auto& [name, m] : rep.estimator_repeatability)
      std::printf("window vs window, %-6s    RMSPE %.2f %%  within 5 %%: %.1f %%\n", name.c_str(),
                  100 * m.rmspe, 100 * m.within_5pct);
    std::printf("host regime: %s", host_regime(rep.repeatability).c_str());
    if (!j["noise_ratio"].is_null())
      std::printf(" (predictor RMSPE / window-to-window RMSPE = %.2f)",
                  j["noise_ratio"].get<double>());
    if (rep.drift)
      std::printf(
          "\ndevice speed: reference %.3f ms now, %.3f ms when the rows were timed "
          "(drift %+.1f %%)",
          *rep.reference_now_ms, *rep.reference_build_ms, 100 * *rep.drift);
    std::printf("\nresidual by block kind (the kind's rows off by, share of the prediction):");
    for (const auto& r : rep.residuals) {
      if (r.identified)
        std::printf("  %s %+.1f %% (%.0f %%)", r.kind.c_str(), 100 * r.relative_error,
                    100 * r.mean_share);
      else
        std::printf("  %s not separable (%.0f %%)", r.kind.c_str(), 100 * r.mean_share);
    }
    std::printf("\n");
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
  TimingConfig timing_ = default_profile_timing();
  int windows_ = 3;
};

HWNAS_REGISTER_COMMAND(ValidateCommand, "validate",
                       "Compare table predictions with end-to-end measurements of random subnets");

}  // namespace
}  // namespace hwnas::apps
