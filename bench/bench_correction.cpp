// The learned latency correction's form, replayed on stored validations (issue 15, step 5): the
// table's plain sum, the per-kind correction (model v1: each kind's sums and counts) and the
// per-kind-and-stage one (v2: each kind's sums per stage level as well, latency_correction.h),
// each fitted by LatencyCorrection::fit_cross_validated as `hwnas validate --fit-correction`
// fits it. The v1 form is v2's fit with the stage sums left out. Counters, each against the
// CSV's end-to-end medians:
//   plain_rmspe, plain_w5, plain_tau   the table's sum + overhead
//   kind_rmspe, kind_w5, kind_tau      the per-kind correction
//   stage_rmspe, stage_w5, stage_tau   the per-kind-and-stage correction
// (RMSPE and within +-5 % as fractions, Kendall's tau-b). When both CSVs hold each subnet's
// speed factor s_i (its group's space-reference time over the build's), also:
//   stage_scaled_*   v2 times s_i over the fit set's median factor, as `validate` scales a
//                    correction to the run it judges (speed_calibrated_corrected)
//   stage_rows_*     v2 over the fit set's median factor, unscaled: the fitting run's speed
//                    divided out of the predictions (tried for LutLatencyPredictor, not kept)
//   norm_scaled_*    v2 fitted on measured / s_i (the fit set brought to the build's speed
//                    group by group), times s_i
//   norm_*           the same fit's predictions unscaled, as a search would use them
// With --fit=CSV the corrections are
// fitted on that validation's subnets (seed 7's, as bench/quiet_checks.py fits them) and judged
// on --validation's (held out); without it, each subnet of --validation is predicted by the fit
// on the other four fifths (cross_validated_predictions, the penalty chosen inside each fold).
//
// Parameters: --table=DB#DEVICE --space=NAME --validation=CSV (repeated with --table in the
// same order) --fit=CSV (optional, one per --validation when given).
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "evaluators/runtime/timing.h"
#include "predictors/few_shot_table.h"
#include "predictors/latency_correction.h"
#include "predictors/latency_validation.h"
#include "predictors/lut_latency_predictor.h"
#include "spaces/registry.h"

namespace hwnas::bench {
namespace {

struct Replay {
  std::vector<LatencyFeatures> fit, held_out;  // empty fit: cross-validated on held_out
  std::vector<double> fit_ms, held_out_ms;
  std::vector<double> fit_speed, held_out_speed;  // empty: not in the CSVs
};

std::vector<LatencyFeatures> features_of(const LutLatencyPredictor& table,
                                         const std::vector<Network>& nets) {
  std::vector<LatencyFeatures> out;
  for (const auto& n : nets) out.push_back(table.features(n));
  return out;
}

// The same features without their split by stage: what the per-kind model (v1) saw.
std::vector<LatencyFeatures> per_kind_only(std::vector<LatencyFeatures> features) {
  for (auto& f : features) f.stage_ms = {};
  return features;
}

std::vector<double> corrected(const std::vector<LatencyFeatures>& fit,
                              const std::vector<double>& fit_ms,
                              const std::vector<LatencyFeatures>& held_out,
                              const std::vector<double>& held_out_ms) {
  const auto fitter = [](const auto& f, const auto& m) {
    return LatencyCorrection::fit_cross_validated(f, m);
  };
  if (fit.empty()) return cross_validated_predictions(held_out, held_out_ms, 5, fitter);
  const LatencyCorrection c = fitter(fit, fit_ms);
  std::vector<double> out;
  for (const auto& f : held_out) out.push_back(c.apply(f));
  return out;
}

void report(benchmark::State& state, const std::string& name, const std::vector<double>& measured,
            const std::vector<double>& predicted) {
  const AccuracyMetrics m = accuracy_metrics(measured, predicted);
  state.counters[name + "_rmspe"] = m.rmspe;
  state.counters[name + "_w5"] = m.within_5pct;
  state.counters[name + "_tau"] = m.kendall_tau;
}

std::vector<double> divided(std::vector<double> ms, const std::vector<double>& speed) {
  for (std::size_t i = 0; i < ms.size(); ++i) ms[i] /= speed[i];
  return ms;
}

std::vector<double> scaled(std::vector<double> ms, const std::vector<double>& speed, double by) {
  for (std::size_t i = 0; i < ms.size(); ++i) ms[i] *= speed[i] / by;
  return ms;
}

void replay(benchmark::State& state, const Replay& r) {
  std::vector<double> plain, kind, stage, norm;
  const bool speeds = !r.held_out_speed.empty() && (r.fit.empty() || !r.fit_speed.empty());
  const std::vector<double>& fit_speed = r.fit.empty() ? r.held_out_speed : r.fit_speed;
  for (auto _ : state) {
    plain.clear();
    for (const auto& f : r.held_out) plain.push_back(f.plain_ms);
    kind = corrected(per_kind_only(r.fit), r.fit_ms, per_kind_only(r.held_out), r.held_out_ms);
    stage = corrected(r.fit, r.fit_ms, r.held_out, r.held_out_ms);
    if (speeds)
      norm = corrected(r.fit, divided(r.fit_ms, r.fit_speed), r.held_out,
                       divided(r.held_out_ms, r.held_out_speed));
  }
  report(state, "plain", r.held_out_ms, plain);
  report(state, "kind", r.held_out_ms, kind);
  report(state, "stage", r.held_out_ms, stage);
  if (!speeds) return;
  const double fit_median = summarize_ms(fit_speed).median_ms;
  report(state, "stage_scaled", r.held_out_ms, scaled(stage, r.held_out_speed, fit_median));
  report(state, "stage_rows", r.held_out_ms,
         scaled(stage, std::vector<double>(stage.size(), 1.0), fit_median));
  report(state, "norm_scaled", r.held_out_ms, scaled(norm, r.held_out_speed, 1.0));
  report(state, "norm", r.held_out_ms, norm);
}

void register_benchmarks(Params& p) {
  const auto tables = p.strings("table", {});
  const auto validations = p.strings("validation", {});
  const auto fits = p.strings("fit", {});
  const auto space_name = p.strings("space", {"efficientformer"});
  if (tables.empty() || tables.size() != validations.size() ||
      (!fits.empty() && fits.size() != validations.size()))
    throw std::invalid_argument(
        "give --table=DB#DEVICE and --validation=CSV in pairs (and --fit=CSV for each, or none)");
  const SearchSpace& space = get_space(space_name.front());
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const FewShotSource t = parse_few_shot_source(tables[i]);
    if (t.device.empty()) throw std::invalid_argument("--table=" + tables[i] + ": name the device");
    const auto table = LutLatencyPredictor::open(t.db, t.device);
    Replay r;
    const ValidationCsv held_out = read_validation_csv(space, validations[i]);
    r.held_out = features_of(*table, held_out.nets);
    r.held_out_ms = held_out.e2e_ms;
    r.held_out_speed = held_out.speed_factor;
    if (!fits.empty()) {
      const ValidationCsv fit = read_validation_csv(space, fits[i]);
      r.fit = features_of(*table, fit.nets);
      r.fit_ms = fit.e2e_ms;
      r.fit_speed = fit.speed_factor;
    }
    benchmark::RegisterBenchmark(("correction/" + validations[i]).c_str(),
                                 [r](benchmark::State& st) { replay(st, r); })
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
  }
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  return hwnas::bench::run(argc, argv,
                           {"correction",
                            "--table=DB#DEVICE --validation=CSV [--fit=CSV] --space=NAME",
                            {},
                            hwnas::bench::register_benchmarks});
}
