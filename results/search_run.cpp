#include "results/search_run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "predictors/accuracy_interval.h"
#include "predictors/lut_latency_predictor.h"
#include "predictors/supernet_accuracy.h"
#include "results/front_json.h"
#include "results/run_data.h"
#include "results/run_exports.h"
#include "results/run_outputs.h"
#include "results/run_store.h"
#include "results/search_problem.h"
#include "search/algorithm_registry.h"
#include "spaces/registry.h"

namespace hwnas {
namespace {

namespace fs = std::filesystem;

// run.db holds the configuration from the moment it exists: a run killed before its first
// commit must not leave a run.db that --resume cannot continue and that a new run refuses.
void create_run_db(const std::string& db_path, const RunConfig& config) {
  const std::string tmp = db_path + ".tmp";
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(tmp + suffix, ec);
  {
    RunStore fresh(tmp);
    fresh.set_config(config.to_json());
  }
  fs::rename(tmp, db_path, ec);
  if (ec)
    throw Error("cannot create the run database '" + db_path + "': " + ec.message() +
                "; choose another --out");
}

// Evaluations with the accuracy objective re-scored by `scorer` (the other values kept): the
// final re-scoring of the front's candidates and of the named reference members.
std::vector<Evaluation> rescored(const Problem& problem, SupernetAccuracy& scorer,
                                 const std::vector<Evaluation>& old) {
  const int acc = problem.objective_index("accuracy");
  if (acc < 0) return old;
  std::vector<Arch> archs;
  for (const auto& e : old) archs.push_back(e.arch);
  const std::vector<double> values = scorer.predict(archs);
  std::vector<Evaluation> out;
  for (std::size_t k = 0; k < old.size(); ++k) {
    std::vector<double> objectives = old[k].objectives;
    objectives[static_cast<std::size_t>(acc)] = values[k];
    Evaluation e = problem.make_evaluation(old[k].arch, std::move(objectives),
                                           old[k].constraint_values, old[k].generation);
    e.samples = old[k].samples;
    e.samples.resize(e.objectives.size());
    e.samples[static_cast<std::size_t>(acc)] = scorer.samples(old[k].arch);
    out.push_back(std::move(e));
  }
  return out;
}

// The space's named members (e.g. s, m, l) scored as the front was, so the report can show
// where the search beats the hand-designed subnets. A member the run cannot score (another
// resolution than its table holds) is left out with a note.
nlohmann::json reference_members(Problem& problem, const SearchSpace& space,
                                 SupernetAccuracy* final_scorer) {
  nlohmann::json refs = nlohmann::json::array();
  for (const auto& [name, arch] : space.named()) {
    try {
      std::vector<Evaluation> e = problem.evaluate({arch}, 0);
      if (final_scorer) e = rescored(problem, *final_scorer, e);
      nlohmann::json j = evaluation_json(problem, e.front());
      j["name"] = name;
      refs.push_back(std::move(j));
    } catch (const Error& err) {
      refs.push_back({{"name", name}, {"note", std::string("not scored: ") + err.what()}});
    }
  }
  return refs;
}

}  // namespace

RunConfig load_run_config(const std::string& dir) {
  const std::string db_path = dir + "/run.db";
  if (!fs::exists(db_path))
    throw Error("--resume: no run in '" + dir + "' (no run.db); start one without --resume");
  const RunStore store(db_path, /*create=*/false);
  const auto stored = store.config();
  if (!stored) throw Error("--resume: '" + db_path + "' holds no run settings");
  return RunConfig::from_json(*stored, "'" + db_path + "'");
}

SearchRunReport run_search(RunConfig config, const std::string& out_dir,
                           const SearchRunOptions& options) {
  config.validate();
  const std::string db_path = out_dir + "/run.db";
  if (!options.resume && fs::exists(db_path))
    throw Error("'" + out_dir +
                "' already holds a run: pass --resume to continue it, or choose another --out");
  if (options.resume && !fs::exists(db_path))
    throw Error("--resume: no run in '" + out_dir + "' (no run.db); start one without --resume");
  if (options.threads < 0) throw Error("--threads must be >= 0");
  const SearchSpace& space = get_space(config.search_space());
  const AlgorithmTraits& traits = find_algorithm(config.algorithm);

  SearchProblem built(config, options.agent_token, /*profile=*/true, options.log);
  Problem& problem = *built.problem;
  const AccuracySource& accuracy = built.accuracy;
  const auto& filling = built.filling;
  const auto& lut = built.lut;
  const std::string& objective_list = built.objective_list;
  if (options.on_problem) options.on_problem(problem);

  // The algorithm and the runner, checkpointing into run.db.
  auto algorithm = make_algorithm(
      AlgorithmSetup{config.algorithm, config.population, config.seed, config.algorithm_params},
      problem);
  fs::create_directories(out_dir);
  if (!options.resume) create_run_db(db_path, config);
  RunStore store(db_path);
  // A resume may extend the budgets or the failure limit: a later resume must see them too.
  if (options.resume) store.set_config(config.to_json());
  store.bind(problem);
  RunnerOptions ro;
  ro.max_evaluations = config.effective_budget();
  ro.max_seconds = config.time_budget_s;
  ro.threads = options.threads;
  ro.archive_bounds = traits.archive_bounds;
  ro.max_failures = config.max_failures;
  const auto screened = accuracy.screened;
  if (screened) ro.provisional = [screened](const Arch& a) { return screened->estimated(a); };
  if (const auto scorer = accuracy.final_scorer)
    ro.rescore = [&problem, scorer](const std::vector<Evaluation>& old) {
      return rescored(problem, *scorer, old);
    };
  SearchRunner runner(problem, *algorithm, ro, &store);
  if (options.on_progress) runner.on_progress(options.on_progress);
  const auto t0 = std::chrono::steady_clock::now();
  SearchRunReport report;
  report.result = runner.run();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const SearchResult& result = report.result;
  // Before the counts below, so that one process and an MPI job (whose workers score the
  // references and report their counts in on_finish) count the same evaluations.
  const nlohmann::json references =
      problem.objective_index("accuracy") >= 0 && accuracy.supernet
          ? reference_members(problem, space, accuracy.final_scorer.get())
          : nlohmann::json();

  // front.json and the report.
  nlohmann::json& extra = report.summary;
  const nlohmann::json alg_result = algorithm->result();
  if (alg_result.is_object())
    for (const auto& [k, v] : alg_result.items()) extra[k] = v;
  extra["accuracy_source"] =
      accuracy.predictor ? nlohmann::json(accuracy.predictor->source()) : nlohmann::json(nullptr);
  if (problem.objective_index("accuracy") < 0)
    extra["note"] = "no accuracy source was used: the objectives are " + objective_list +
                    " (give --accuracy external:CMD or surrogate:FILE.csv and --objectives "
                    "latency,accuracy)";
  extra["resumed"] = result.resumed;
  extra["ranks"] = options.ranks;
  if (accuracy.supernet) {
    extra["supernet_evaluation"] = {{"evaluations", accuracy.supernet->evaluations()},
                                    {"seconds", accuracy.supernet->seconds()}};
    if (screened) {
      const ScreeningStats st = screened->stats();
      extra["accuracy_prescreen"] = {
          {"asked", st.asked},
          {"evaluated", st.evaluated},
          {"saved", st.screened},
          {"heldout_pairs", st.heldout_pairs},
          {"front_members_confirmed", result.confirmed},
          {"front_members_with_estimates",
           std::count_if(
               result.front.begin(), result.front.end(),
               [&](std::size_t i) { return screened->estimated(result.archive[i].arch); })},
          {"heldout_kendall_tau", std::isnan(st.heldout_kendall_tau)
                                      ? nlohmann::json(nullptr)
                                      : nlohmann::json(st.heldout_kendall_tau)}};
    }
  }
  if (accuracy.final_scorer)
    extra["final_rescore"] = {
        {"split", "val"},
        {"samples",
         config.final_samples == 0 ? nlohmann::json("all") : nlohmann::json(config.final_samples)},
        {"candidates", result.rescored},
        {"note",
         "the archs of the first two non-dominated ranks were re-scored on these images "
         "after the search; the front is drawn from them only"}};
  if (!references.is_null()) extra["references"] = references;
  if (filling) {
    const FillReport fr = filling->report();
    extra["table_fill"] = {{"db", config.db},
                           {"device", config.device},
                           {"rows", fr.rows},
                           {"fills", fr.fills},
                           {"seconds", fr.seconds}};
  }
  if (options.on_finish) options.on_finish(extra);
  write_json_atomic(
      out_dir + "/front.json",
      front_to_json(problem, result, RunInfo{config.algorithm, config.seed, config.device}, extra));
  report.files = {"run.db", "front.json", "report.html"};
  if (extra.contains("generator")) {
    write_json_atomic(out_dir + "/generator.json", extra["generator"]);
    report.files.push_back("generator.json");
  }
  // The report reads the table for its reference points (named members); with fill it gets
  // the rows as they stand, so only evaluated archs cause measurements.
  const std::shared_ptr<const LatencyPredictor> report_table =
      filling ? std::shared_ptr<const LatencyPredictor>(filling->table()) : lut;
  write_default_report(load_run(out_dir), space, report_table.get(),
                       device_json(config.db, config.device));
  report.config = std::move(config);
  report.objective_names = problem.objective_names();
  report.space = space.name();
  return report;
}

std::string search_summary(const SearchRunReport& r, const std::string& out_dir) {
  std::string text;
  const auto add = [&text](const char* fmt, auto... args) {
    const int n = std::snprintf(nullptr, 0, fmt, args...);
    std::string line(static_cast<std::size_t>(std::max(n, 0)) + 1, '\0');
    std::snprintf(line.data(), line.size(), fmt, args...);
    line.pop_back();
    text += line;
  };
  const nlohmann::json& s = r.summary;
  const SearchResult& result = r.result;
  add("hwnas search: %s on %s, %zu evaluations (%d generations%s) in %.2f s; stop: %s\n",
      r.config.algorithm.c_str(), r.space.c_str(), result.archive.size(), result.generations,
      result.resumed ? ", resumed" : "", r.seconds, result.stop_reason.c_str());
  add("front: %zu architectures, hypervolume %.4f (normalised, reference point 1.1)\n",
      result.front.size(), result.hypervolume);
  if (result.failed > 0)
    add("failed evaluations: %zu (recorded in run.db with their reasons, ranked last; "
        "--max-failures %zu)\n",
        result.failed, r.config.max_failures);
  if (s.contains("table_fill"))
    add("latency table: filled %zu rows (%zu fills) of device '%s' in %s in %.2f s\n",
        s["table_fill"]["rows"].get<std::size_t>(), s["table_fill"]["fills"].get<std::size_t>(),
        r.config.device.c_str(), r.config.db.c_str(), s["table_fill"]["seconds"].get<double>());
  if (s.contains("note")) add("note: %s\n", s["note"].get<std::string>().c_str());
  if (!s["accuracy_source"].is_null())
    add("accuracy: %s\n", s["accuracy_source"].get<std::string>().c_str());
  if (s.contains("supernet_evaluation"))
    add("supernet: %d subnets evaluated in the engine in %.1f s\n",
        s["supernet_evaluation"]["evaluations"].get<int>(),
        s["supernet_evaluation"]["seconds"].get<double>());
  if (s.contains("accuracy_prescreen")) {
    const auto& p = s["accuracy_prescreen"];
    add("pre-screen: %d of %d scored archs evaluated, %d evaluations saved; surrogate "
        "Kendall tau %.3f on %d held-out evaluations; %zu front members re-evaluated "
        "for real (estimates confirmed), %d still hold an estimate\n",
        p["evaluated"].get<int>(), p["asked"].get<int>(), p["saved"].get<int>(),
        p["heldout_kendall_tau"].is_null() ? NAN : p["heldout_kendall_tau"].get<double>(),
        p["heldout_pairs"].get<int>(), result.confirmed,
        p["front_members_with_estimates"].get<int>());
  }
  if (s.contains("final_rescore")) {
    const auto& n = s["final_rescore"]["samples"];
    add("final re-score: %zu candidates (first two non-dominated ranks) re-scored on %s val "
        "images; the front is drawn from them\n",
        result.rescored, n.is_string() ? n.get<std::string>().c_str() : n.dump().c_str());
  }
  const SearchSpace& space = get_space(r.space);
  for (std::size_t i = 0; i < result.front.size() && i < 5; ++i) {
    const auto& e = result.archive[result.front[i]];
    text += " ";
    for (std::size_t k = 0; k < r.objective_names.size(); ++k) {
      add(" %s %.6g", r.objective_names[k].c_str(), e.objectives[k]);
      if (k < e.samples.size() && e.samples[k] > 0 && e.objectives[k] >= 0 &&
          e.objectives[k] <= 1) {
        const AccuracyInterval ci = wilson_interval(e.objectives[k], e.samples[k]);
        add(" [%.4f, %.4f] (n=%zu)", ci.lo, ci.hi, e.samples[k]);
      }
    }
    add("%s  %s\n", e.feasible() ? "" : " (infeasible)", space.to_json(e.arch).dump().c_str());
  }
  if (result.front.size() > 5) add("  ... %zu more in front.json\n", result.front.size() - 5);
  std::string files;
  for (const auto& f : r.files) files += (files.empty() ? "" : ", ") + out_dir + "/" + f;
  add("wrote %s\n", files.c_str());
  return text;
}

}  // namespace hwnas
