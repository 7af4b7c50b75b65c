#include "results/search_problem.h"

#include <filesystem>

#include "core/error.h"
#include "evaluators/quant/quantization.h"
#include "predictors/lut_latency_predictor.h"
#include "profilers/backend_registry.h"
#include "profilers/block_timing_choice.h"
#include "profilers/host_table.h"
#include "profilers/latency_table.h"
#include "profilers/profiler.h"
#include "search/problem_spec.h"
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

SearchProblem::SearchProblem(const RunConfig& config, const std::string& agent_token, bool profile,
                             std::ostream* log) {
  const SearchSpace& space = get_space(config.space);
  MetricSources sources;
  sources.latency_table = [&]() -> std::shared_ptr<const LatencyPredictor> {
    if (config.fill) return lut = filling = make_filling_predictor(config, agent_token);
    // The embedded default: the host's table made on first use.
    if (profile && config.profile_missing && config.device == host_device_name(config.precision) &&
        !table_covers_space(config.db, config.device, space))
      profile_host_table(config.db, config.device, space, log, config.precision);
    return lut = LutLatencyPredictor::open(config.db, config.device);
  };
  sources.accuracy = [&]() -> std::shared_ptr<AccuracyPredictor> {
    accuracy = make_accuracy_predictor(
        config.accuracy, space,
        AccuracySourceOptions{config.accuracy_dataset, config.accuracy_samples,
                              config.measure_threads, config.prescreen, config.eval_timeout_s,
                              config.precision, "val", config.final_samples});
    return accuracy.predictor;
  };
  sources.measure =
      MeasureOptions{config.measure_threads,
                     1,
                     {},
                     config.seed,
                     config.precision == "int8" ? int8_timing_preparer() : TimingPreparer{}};
  objective_list = config.objective_list();
  problem.emplace(make_problem(
      space, objective_list,
      ConstraintLimits{config.latency_max_ms, config.macs_max, config.params_max}, sources));
}

}  // namespace hwnas
