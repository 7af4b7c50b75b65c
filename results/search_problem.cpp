#include "results/search_problem.h"

#include <filesystem>

#include "core/error.h"
#include "evaluators/quant/depthwise_speed.h"
#include "evaluators/quant/engine_precision.h"
#include "evaluators/quant/quantization.h"
#include "predictors/lut_latency_predictor.h"
#include "predictors/mixed_precision_latency.h"
#include "profilers/backend.h"
#include "profilers/backend_registry.h"
#include "profilers/block_timing_choice.h"
#include "profilers/host_table.h"
#include "profilers/latency_table.h"
#include "profilers/profiler.h"
#include "search/problem_spec.h"
#include "spaces/precision_genes.h"
#include "spaces/registry.h"

namespace hwnas {
namespace {

namespace fs = std::filesystem;

// The fill predictor: the rows present now plus a filler measuring on the table's device, with
// the backend its stored profile names (or config.backend for a device not in the table yet).
std::shared_ptr<const FillingLutPredictor> make_filling_predictor(const RunConfig& c,
                                                                  const std::string& token) {
  std::shared_ptr<const LutLatencyPredictor> present =
      LutLatencyPredictor::open_or_empty(c.db, c.device);
  std::optional<DeviceProfile> stored;
  if (fs::exists(c.db))
    stored = LatencyTable(c.db, LatencyTable::Mode::read_only).find_device(c.device);
  BackendSpec spec;
  if (stored) {
    spec = backend_for_device(*stored, c.agent, token);
    // New rows must be timed as the space's rows already there were.
    if (const auto mode = stored_block_timing(LatencyTable(c.db, LatencyTable::Mode::read_only),
                                              c.device, get_space(c.space).name()))
      spec.block_timing = *mode;
  } else {
    spec.name = !c.agent.empty() ? "agent" : c.backend;
    spec.url = c.agent;
    spec.token = token;
    spec.threads = c.measure_threads;
  }
  return std::make_shared<FillingLutPredictor>(
      std::move(present),
      make_table_filler(c.db, c.device, make_backend(spec), default_profile_timing()));
}

}  // namespace

void adopt_run_depthwise_choices(const RunConfig& config) {
  const RunPrecision run = parse_run_precision(config.precision);
  if (!run.engine.int8 || run.engine.depthwise != DepthwisePrecision::faster) return;
  // A mixed run's int8 stages were priced by its int8 twin's rows.
  const std::string device =
      run.mixed ? int8_device_name(config.device, engine_precision_name(run.engine))
                : config.device;
  if (!std::filesystem::exists(config.db))
    throw Error("the run's latency table '" + config.db + "', which holds the depthwise timings " +
                "its int8-dwfaster subnets were chosen by, is not found from " +
                std::filesystem::current_path().string() + ": run this where the search ran");
  const LatencyTable table(config.db, LatencyTable::Mode::read_only);
  if (const auto stored = table.calibration(device, kKernelChoices))
    remember_depthwise_speeds(*stored);
}

SearchProblem::SearchProblem(const RunConfig& config, const std::string& agent_token, bool profile,
                             std::ostream* log) {
  const SearchSpace& space = get_space(config.search_space());
  MetricSources sources;
  sources.latency_table = [&]() -> std::shared_ptr<const LatencyPredictor> {
    if (config.fill) return lut = filling = make_filling_predictor(config, agent_token);
    // The embedded default: the host's table made on first use.
    const auto table = [&](const std::string& device, const std::string& precision) {
      if (profile && config.profile_missing && device == host_device_name(precision) &&
          !table_covers_space(config.db, device, space))
        profile_host_table(config.db, device, base_space(space), log, precision);
      return std::shared_ptr<const LutLatencyPredictor>(
          LutLatencyPredictor::open(config.db, device));
    };
    const RunPrecision run = parse_run_precision(config.precision);
    if (run.mixed) {
      const std::string int8 = engine_precision_name(run.engine);
      lut = std::make_shared<MixedPrecisionLatency>(
          table(config.device, "fp32"), table(int8_device_name(config.device, int8), int8));
    } else {
      lut = table(config.device, config.precision);
    }
    adopt_run_depthwise_choices(config);
    return lut;
  };
  sources.accuracy = [&]() -> std::shared_ptr<AccuracyPredictor> {
    accuracy = make_accuracy_predictor(
        config.accuracy, space,
        AccuracySourceOptions{config.accuracy_dataset, config.accuracy_samples,
                              config.measure_threads, config.prescreen, config.eval_timeout_s,
                              config.precision, "val", config.final_samples});
    return accuracy.predictor;
  };
  sources.measure = MeasureOptions{
      config.measure_threads,
      1,
      {},
      config.seed,
      config.precision == "fp32"
          ? TimingPreparer{}
          : int8_timing_preparer(parse_run_precision(config.precision).engine.depthwise)};
  objective_list = config.objective_list();
  problem.emplace(make_problem(
      space, objective_list,
      ConstraintLimits{config.latency_max_ms, config.macs_max, config.params_max}, sources));
}

}  // namespace hwnas
