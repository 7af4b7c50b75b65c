// The run configuration: everything that defines a search run, in one typed record with one
// strict JSON reader and writer. `hwnas search` fills it from its flags, stores it in run.db so
// that `--resume` needs only the run directory, and `hwnas export` reads it back from there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace hwnas {

struct RunConfig {
  /// Version of the JSON form. 5: this record; 4: without max_failures; 3: also without
  /// final_samples; 2: also without precision; 1: also without eval_timeout_s. Stored configs
  /// without "version" (hwnas before
  /// issue 16: the algorithms' parameters flat at the top level) are read as version 0.
  static constexpr int kVersion = 5;

  std::string space = "efficientformer";
  /// A name of search/algorithm_registry.h (aliases are resolved on reading).
  std::string algorithm = "nsga2";
  /// The algorithm's own parameters, complete (its defaults filled in): AlgorithmTraits::params.
  nlohmann::json algorithm_params = nlohmann::json::object();
  std::size_t population = 50;  ///< population / generation size
  std::uint64_t seed = 0;
  /// Evaluation budget in unique architectures; unset: none for an algorithm that stops by
  /// itself (slimming), else 2000 (effective_budget()).
  std::optional<std::size_t> budget;
  double time_budget_s = 0;  ///< wall-time budget in seconds; 0 = none

  /// Comma-separated objectives, each NAME or NAME:min|max (search/problem_spec.h); empty:
  /// "latency,accuracy" with an accuracy source, else "latency,macs".
  std::string objectives;
  double latency_max_ms = 0;  ///< constraint: latency <= this (ms); 0 = none
  double macs_max = 0;        ///< constraint: MACs <= this (batch 1); 0 = none
  double params_max = 0;      ///< constraint: parameters <= this; 0 = none

  /// Accuracy source (predictors/accuracy_source.h): "", supernet:FILE.safetensors,
  /// external:CMD or surrogate:FILE.csv.
  std::string accuracy;
  std::string accuracy_dataset = "fashion-mnist";  ///< supernet: fashion-mnist, IDX or image dir
  std::size_t accuracy_samples = 1000;  ///< supernet: held-out images per subnet (0 = all)
  double prescreen = 1.0;  ///< supernet: share of a batch evaluated for real (1 = no screening)
  /// supernet: once the search ends, re-score the archs of the first two non-dominated ranks on
  /// this many held-out images (0 = the whole split) and draw the front from them
  /// (RunnerOptions::rescore); -1 = no re-scoring, as is any count not above accuracy_samples.
  /// `hwnas search` defaults to 0; version-3 runs and older read as -1.
  int final_samples = -1;
  int measure_threads = 2;  ///< engine threads of supernet accuracy and latency-measured
  /// Longest wait for one evaluation, seconds: an external: command's answer (0 = its 120 s),
  /// and under MPI a worker rank's answer (0 = no limit; the rank gets 5 s more, so that it
  /// can report its own command's timeout first). Past it the evaluation fails: it is recorded
  /// and the run goes on (a rank that does not answer is retired), up to max_failures.
  double eval_timeout_s = 0;
  /// Failed evaluations a run tolerates (RunnerOptions::max_failures); version-4 runs and older
  /// read as 0, their rule then: the first failure stops the run.
  std::size_t max_failures = 10;

  std::string db = "hwnas.db";  ///< latency table file
  std::string device = "host";  ///< device of the latency table
  /// "fp32", or an int8 precision ("int8", "int8-dwfaster", "int8-dwfp32":
  /// evaluators/quant/engine_precision.h): accuracy from the quantized subnets (supernet:),
  /// latency from that precision's table (device "host-" + precision by default, profiled on
  /// first use; an int8-dwfaster table's depthwise timings decide the subnets' depthwise
  /// layers too) and int8 measurements; or "mixed": the space with per-stage precision genes
  /// (search_space()), accuracy from subnets quantized where their genes say (supernet: only),
  /// latency from the fp32 table of `device` and the int8 table of its int8 twin `device`-int8
  /// (predictors/mixed_precision_latency.h); "mixed-dwfaster" and "mixed-dwfp32" apply that
  /// depthwise rule to the int8 stages, priced by the twin `device`-int8-dwfaster (-dwfp32).
  std::string precision = "fp32";
  /// Profile the host table first when it lacks the space (profilers/host_table.h); only acts
  /// for device "host".
  bool profile_missing = true;
  bool fill = false;              ///< measure rows a candidate lacks as the search asks for them
  std::string backend = "local";  ///< fill on a device not in the table yet: local | fake
  std::string agent;  ///< fill through `hwnas agent` at this URL (its token is never stored)

  /// The objective list with the default applied.
  std::string objective_list() const;
  /// The name of the space searched: `space`, or `space` + "+precision" for precision mixed
  /// (spaces/precision_genes.h).
  std::string search_space() const;
  /// The budget with the default applied (0 = no limit).
  std::size_t effective_budget() const;

  /// Checks every field (the space and algorithm exist, the algorithm's parameters, ranges) and
  /// completes algorithm_params with its defaults and algorithm with its canonical name. Throws
  /// hwnas::Error naming the field and the fix.
  void validate();

  /// The JSON form, with "version": kVersion.
  nlohmann::json to_json() const;
  /// Reads the JSON form: unknown keys and wrong types are errors, missing keys keep their
  /// defaults, and the result is validate()d. Throws hwnas::Error naming `origin` (e.g. "run.db
  /// of RUN") and the key.
  static RunConfig from_json(const nlohmann::json& j, const std::string& origin);
};

}  // namespace hwnas
