#include "search/run_config.h"

#include "core/error.h"
#include "core/json_util.h"
#include "evaluators/quant/engine_precision.h"
#include "search/algorithm_registry.h"
#include "spaces/precision_genes.h"
#include "spaces/registry.h"

namespace hwnas {
namespace {

// Reads j[key] into `field` when present; a value of another JSON type is an error.
template <typename T>
void read(const nlohmann::json& j, const char* key, T& field, const std::string& origin) {
  if (!j.contains(key)) return;
  try {
    field = j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(origin + ": '" + key + "' has the wrong type (" + j.at(key).dump() + ")");
  }
}

// Version 0 kept each algorithm's parameters at the top level, for every algorithm.
nlohmann::json legacy_algorithm_params(const nlohmann::json& j, const std::string& algorithm) {
  nlohmann::json p = nlohmann::json::object();
  if (algorithm == "generative" && j.contains("autoregressive"))
    p["autoregressive"] = j["autoregressive"];
  if (algorithm == "slimming" && j.contains("start")) p["start"] = j["start"];
  if (algorithm == "flops-window-evolution")
    for (const char* k : {"flops_window", "flops_window_width", "top_k", "mutation_prob"})
      if (j.contains(k)) p[k] = j[k];
  return p;
}

}  // namespace

std::string RunConfig::objective_list() const {
  if (!objectives.empty()) return objectives;
  return accuracy.empty() ? "latency,macs" : "latency,accuracy";
}

std::size_t RunConfig::effective_budget() const {
  if (budget) return *budget;
  return find_algorithm(algorithm).stops_by_itself ? 0 : 2000;
}

void RunConfig::validate() {
  (void)get_space(space);
  const AlgorithmTraits& traits = find_algorithm(algorithm);
  algorithm = traits.name;
  algorithm_params = complete_algorithm_params(traits, algorithm_params);
  if (population < 1) throw Error("the population must be >= 1 (--population)");
  if (time_budget_s < 0) throw Error("the time budget must be >= 0 s (--time-budget)");
  if (latency_max_ms < 0 || macs_max < 0 || params_max < 0)
    throw Error("--latency-max, --macs-max and --params-max must be > 0");
  if (accuracy_dataset.empty()) throw Error("--accuracy-dataset must not be empty");
  if (!(prescreen >= 0.01 && prescreen <= 1.0))
    throw Error("--prescreen must be in [0.01, 1], got " + std::to_string(prescreen));
  if (measure_threads < 1) throw Error("--measure-threads must be >= 1");
  if (!(eval_timeout_s >= 0)) throw Error("--eval-timeout must be >= 0 seconds");
  if (db.empty()) throw Error("--db must not be empty");
  if (device.empty()) throw Error("--device must not be empty");
  if (final_samples < -1)
    throw Error("--final-samples must be -1 (none), 0 (the whole split) or a count, got " +
                std::to_string(final_samples));
  RunPrecision run;
  try {
    run = parse_run_precision(precision);
  } catch (const Error&) {
    throw Error("unknown precision '" + precision +
                "': use --precision fp32, int8 or mixed (int8 and mixed with --depthwise int8, "
                "faster or fp32)");
  }
  // Mixed genes change nothing a surrogate or an external command would see.
  if (run.mixed && accuracy.rfind("supernet:", 0) != 0 &&
      objective_list().find("accuracy") != std::string::npos)
    throw Error(
        "--precision mixed takes its accuracy from the quantized subnets of a supernet: "
        "pass --accuracy supernet:FILE, not '" +
        accuracy + "'");
  if (run.mixed && fill)
    throw Error(
        "--precision mixed reads two existing tables (fp32 and int8); profile them "
        "with `hwnas profile` (and --precision int8) instead of --fill");
  if (backend != "local" && backend != "fake")
    throw Error("--backend must be local or fake (a device not in the table yet), got '" + backend +
                "'");
}

nlohmann::json RunConfig::to_json() const {
  return {{"version", kVersion},
          {"space", space},
          {"algorithm", algorithm},
          {"algorithm_params", algorithm_params},
          {"population", population},
          {"seed", seed},
          {"budget", budget ? nlohmann::json(*budget) : nlohmann::json(nullptr)},
          {"time_budget_s", time_budget_s},
          {"objectives", objectives},
          {"latency_max_ms", latency_max_ms},
          {"macs_max", macs_max},
          {"params_max", params_max},
          {"accuracy", accuracy},
          {"accuracy_dataset", accuracy_dataset},
          {"accuracy_samples", accuracy_samples},
          {"prescreen", prescreen},
          {"final_samples", final_samples},
          {"measure_threads", measure_threads},
          {"eval_timeout_s", eval_timeout_s},
          {"max_failures", max_failures},
          {"db", db},
          {"device", device},
          {"precision", precision},
          {"profile_missing", profile_missing},
          {"fill", fill},
          {"backend", backend},
          {"agent", agent}};
}

RunConfig RunConfig::from_json(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) throw Error(origin + ": the run configuration is not a JSON object");
  RunConfig c;
  int version = 0;
  read(j, "version", version, origin);
  if (version > kVersion)
    throw Error(origin + ": run configuration version " + std::to_string(version) +
                " is newer than this hwnas reads (" + std::to_string(kVersion) +
                "): use the hwnas that made the run");
  if (version < 5) c.max_failures = 0;  // then the first failure stopped the run
  if (version >= 1) {
    if (version < 2 && j.contains("eval_timeout_s"))
      throw Error(origin + ": run configuration version 1 has no 'eval_timeout_s' (version 2 has)");
    if (version < 3 && j.contains("precision"))
      throw Error(origin + ": run configuration version " + std::to_string(version) +
                  " has no 'precision' (version 3 has)");
    if (version < 4 && j.contains("final_samples"))
      throw Error(origin + ": run configuration version " + std::to_string(version) +
                  " has no 'final_samples' (version 4 has)");
    if (version < 5 && j.contains("max_failures"))
      throw Error(origin + ": run configuration version " + std::to_string(version) +
                  " has no 'max_failures' (version 5 has)");
    require_only_keys(j,
                      {"version",
                       "eval_timeout_s",
                       "max_failures",
                       "space",
                       "algorithm",
                       "algorithm_params",
                       "population",
                       "seed",
                       "budget",
                       "time_budget_s",
                       "objectives",
                       "latency_max_ms",
                       "macs_max",
                       "params_max",
                       "accuracy",
                       "accuracy_dataset",
                       "accuracy_samples",
                       "prescreen",
                       "final_samples",
                       "measure_threads",
                       "db",
                       "device",
                       "precision",
                       "profile_missing",
                       "fill",
                       "backend",
                       "agent"},
                      origin + " (run configuration)");
    read(j, "eval_timeout_s", c.eval_timeout_s, origin);
    read(j, "max_failures", c.max_failures, origin);
    read(j, "precision", c.precision, origin);
    read(j, "final_samples", c.final_samples, origin);
    read(j, "time_budget_s", c.time_budget_s, origin);
    read(j, "latency_max_ms", c.latency_max_ms, origin);
    read(j, "algorithm_params", c.algorithm_params, origin);
    read(j, "profile_missing", c.profile_missing, origin);
    if (j.contains("budget") && !j["budget"].is_null()) {
      std::size_t b = 0;
      read(j, "budget", b, origin);
      c.budget = b;
    }
  } else {
    require_only_keys(j,
                      {"space",
                       "algorithm",
                       "objectives",
                       "accuracy",
                       "db",
                       "device",
                       "latency_max",
                       "macs_max",
                       "params_max",
                       "budget",
                       "time_budget",
                       "population",
                       "seed",
                       "start",
                       "autoregressive",
                       "measure_threads",
                       "flops_window",
                       "flops_window_width",
                       "top_k",
                       "mutation_prob",
                       "fill",
                       "backend",
                       "agent",
                       "accuracy_dataset",
                       "accuracy_samples",
                       "prescreen"},
                      origin + " (run configuration, version 0)");
    read(j, "time_budget", c.time_budget_s, origin);
    read(j, "latency_max", c.latency_max_ms, origin);
    std::size_t b = 2000;
    read(j, "budget", b, origin);
    c.budget = b;
  }
  read(j, "space", c.space, origin);
  read(j, "algorithm", c.algorithm, origin);
  if (version == 0) c.algorithm_params = legacy_algorithm_params(j, c.algorithm);
  read(j, "population", c.population, origin);
  read(j, "seed", c.seed, origin);
  read(j, "objectives", c.objectives, origin);
  read(j, "macs_max", c.macs_max, origin);
  read(j, "params_max", c.params_max, origin);
  read(j, "accuracy", c.accuracy, origin);
  read(j, "accuracy_dataset", c.accuracy_dataset, origin);
  read(j, "accuracy_samples", c.accuracy_samples, origin);
  read(j, "prescreen", c.prescreen, origin);
  read(j, "measure_threads", c.measure_threads, origin);
  read(j, "db", c.db, origin);
  read(j, "device", c.device, origin);
  read(j, "fill", c.fill, origin);
  read(j, "backend", c.backend, origin);
  read(j, "agent", c.agent, origin);
  try {
    c.validate();
  } catch (const Error& e) {
    throw Error(origin + ": " + e.what());
  }
  return c;
}

std::string RunConfig::search_space() const {
  return parse_run_precision(precision).mixed ? space + std::string(kPrecisionGeneSuffix) : space;
}

}  // namespace hwnas
