#include "results/table_validation.h"

#include <ostream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "predictors/mixed_precision_latency.h"
#include "profilers/backend_registry.h"
#include "profilers/block_timing_choice.h"
#include "profilers/device_speed.h"
#include "profilers/host_table.h"
#include "profilers/profiler.h"
#include "results/validation_report.h"
#include "spaces/precision_genes.h"
#include "spaces/registry.h"

namespace hwnas {

TableValidationResult validate_table(const TableValidationConfig& c) {
  const SearchSpace& space = get_space(c.space);
  if (c.statistic == LatencyStatistic::p10 && c.fit_correction)
    throw Error("--fit-correction fits the median predictor; drop --statistic p10");
  // A space with precision genes: its subnets mix the fp32 table of the device with its int8
  // twin, and are timed by the local engine with their int8 stages quantized.
  const bool mixed = precision_stages(space) > 0;
  if (mixed && (c.fit_correction || c.statistic != LatencyStatistic::median || !c.agent.empty()))
    throw Error("validating mixed-precision subnets (space '" + space.name() +
                "') compares plain median sums measured by the local engine: drop "
                "--fit-correction, --statistic p10 and --agent");
  const std::shared_ptr<const LutLatencyPredictor> pred =
      LutLatencyPredictor::open(c.db, c.device, c.statistic);
  std::optional<MixedPrecisionLatency> mixed_pred;
  const std::string twin = int8_device_name(c.device, c.mixed_int8_precision);
  if (mixed) mixed_pred.emplace(pred, LutLatencyPredictor::open(c.db, twin));
  const DeviceProfile stored =
      *LatencyTable(c.db, LatencyTable::Mode::read_only).find_device(c.device);
  BackendSpec spec = backend_for_device(stored, c.agent, c.token);
  if (!c.agent.empty()) {
    spec.name = "agent";
    spec.url = c.agent;
    spec.token = c.token;
  } else if (c.backend != "auto") {
    spec.name = c.backend;
  }
  if (mixed) spec.precision = c.mixed_int8_precision;  // quantizes the int8 blocks' layers only
  // Only whole networks are timed here; the block timing names the rows being validated.
  if (const auto mode = stored_block_timing(LatencyTable(c.db, LatencyTable::Mode::read_only),
                                            c.device, base_space(space).name()))
    spec.block_timing = *mode;
  const auto backend = make_backend(spec);
  // The networks' depthwise kernels as the rows chose them (int8-dwfaster; a mixed space's
  // int8 stages as its twin's rows did).
  adopt_stored_kernel_choices(LatencyTable(c.db, LatencyTable::Mode::read_only),
                              mixed ? twin : c.device, *backend);
  // End-to-end times only mean something on the device the table describes.
  DeviceProfile here = backend->device(c.device);
  if (mixed) here.precision = stored.precision;  // the int8 timing is the mixed subnets' own
  if (here.runtime != stored.runtime) {
    if (c.log)
      *c.log << "warning: the table was built by " << stored.runtime << ", measuring with "
             << here.runtime << "\n";
    here.runtime = stored.runtime;
  }
  if (const std::string d = stored.diff(here); !d.empty())
    throw Error("device '" + c.device + "' in " + c.db + " differs from the measuring backend " +
                backend->name() + " (" + d + "); validate where the table was built (--agent)");

  ValidationOptions vo;
  vo.samples = c.samples;
  vo.seed = c.seed;
  vo.resolution = c.resolution ? c.resolution : default_resolution(space);
  vo.timing = c.timing;
  vo.windows = c.windows;
  vo.group = c.group;
  vo.fit_correction = c.fit_correction;
  vo.statistic = c.statistic;
  vo.progress = c.log;
  // The stored reference was timed in fp32; a mixed validation's backend times it in int8, so
  // the two say nothing about the host's drift.
  if (!mixed) {
    const LatencyTable table(c.db, LatencyTable::Mode::read_only);
    vo.reference_build_ms = stored_reference_ms(table, c.device, base_space(space).name());
    if (const auto own = stored_space_reference(table, c.device, space, vo.resolution)) {
      ValidationSpaceReference r{space.decode(own->arch), own->ms};
      if (pred && pred->correction()) r.correction_speed = pred->correction()->speed();
      vo.space_reference = std::move(r);
    }
  }
  TableValidationResult out;
  out.report = mixed ? validate_latency(
                           space, [&](const Network& n) { return mixed_pred->features(n); },
                           nullptr, *backend, vo)
                     : validate_latency(space, *pred, *backend, vo);
  const ValidationReport& rep = out.report;
  if (rep.fitted) {
    LatencyTable table(c.db, LatencyTable::Mode::read_write);
    LatencyCorrection stored = *rep.fitted;
    // The run's speed relative to the rows: later validations divide it out of the correction.
    if (rep.fit_speed) stored.set_speed(*rep.fit_speed);
    nlohmann::json cal = stored.to_json();
    cal["cv_rmspe"] = rep.corrected->rmspe;
    cal["plain_rmspe"] = rep.plain.rmspe;
    table.set_calibration(c.device, "correction", cal);
  }
  if (!c.csv.empty()) write_validation_csv(rep, c.csv);
  nlohmann::json& j = out.summary;
  j = validation_summary_json(rep);
  j["device"] = c.device;
  j["db"] = c.db;
  j["backend"] = backend->name();
  j["threads"] = stored.threads;
  j["statistic"] = c.statistic == LatencyStatistic::p10 ? "p10" : "median";
  j["correction_stored"] = rep.fitted.has_value();
  // A probe decided within the host's noise can keep the wrong rows; their level then shows in
  // the speed-calibrated predictions, and the probe's two ratios say what the other would give.
  if (!mixed) {
    const LatencyTable table(c.db, LatencyTable::Mode::read_only);
    if (const auto record = table.calibration(c.device, "block_timing:" + space.name())) {
      std::vector<double> scaled, plain;
      for (const auto& s : rep.samples)
        if (s.measured_ms > 0) {
          scaled.push_back(s.predicted_ms * s.speed_factor.value_or(1.0) / s.measured_ms);
          plain.push_back(s.predicted_ms / s.measured_ms);
        }
      if (!scaled.empty())
        out.block_timing = second_opinion_on_block_timing(*record, summarize_ms(scaled).median_ms,
                                                          summarize_ms(plain).median_ms);
    }
  }
  j["block_timing"] = out.block_timing ? out.block_timing->to_json() : nlohmann::json(nullptr);
  if (!c.html.empty()) {
    ValidationReportData d;
    d.title = std::to_string(rep.plain.samples) + " subnets of " + space.name() + " at " +
              std::to_string(vo.resolution) + " on device '" + c.device + "'";
    d.summary = j;
    for (const auto& smp : rep.samples) {
      d.measured_ms.push_back(smp.measured_ms);
      d.predicted_ms.push_back(smp.predicted_ms);
      if (smp.corrected_ms) d.corrected_ms.push_back(*smp.corrected_ms);
      if (smp.anchored_ms) d.anchored_ms.push_back(*smp.anchored_ms);
    }
    for (const auto& r : rep.residuals)
      if (r.identified) d.residuals.push_back({r.kind, r.mean_share, r.relative_error});
    write_file_atomic(c.html, render_validation_html(d));
  }
  out.space = space.name();
  out.resolution = vo.resolution;
  out.threads = stored.threads;
  return out;
}

}  // namespace hwnas
