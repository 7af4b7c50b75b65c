// `hwnas search`: the Pareto front of accuracy (or compute) against latency on a device.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "apps/backend_choice.h"
#include "apps/command.h"
#include "apps/common.h"
#include "apps/run_outputs.h"
#include "apps/search_hooks.h"
#include "core/error.h"
#include "predictors/external_accuracy.h"
#include "predictors/filling_lut_predictor.h"
#include "predictors/lut_latency_predictor.h"
#include "predictors/screened_accuracy.h"
#include "predictors/supernet_accuracy.h"
#include "predictors/surrogate_accuracy.h"
#include "profilers/block_timing_choice.h"
#include "profilers/profiler.h"
#include "results/front_json.h"
#include "results/run_exports.h"
#include "results/run_store.h"
#include "search/measured_latency_objective.h"
#include "search/search_runner.h"
#include "spaces/registry.h"

namespace hwnas::apps {

std::function<void(const std::string&, const std::string&, const SearchSpace&)>&
missing_table_hook() {
  static std::function<void(const std::string&, const std::string&, const SearchSpace&)> hook;
  return hook;
}

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

// Everything that defines a run; stored in run.db so `--resume` needs only --out.
struct SearchSettings {
  std::string space = "efficientformer";
  std::string algorithm = "nsga2";
  std::string objectives;  // empty: latency,macs without --accuracy, latency,accuracy with it
  std::string accuracy;    // "", external:CMD, surrogate:FILE.csv
  std::string db = "hwnas.db";
  std::string device = "host";
  double latency_max = 0, macs_max = 0, params_max = 0;  // 0 = no constraint
  std::size_t budget = 2000;
  double time_budget = 0;
  std::size_t population = 50;
  std::uint64_t seed = 0;
  std::string start;
  bool autoregressive = false;
  int measure_threads = 2;
  double flops_window = 0, flops_window_width = 20;  // flops-window-evolution, MFLOPs
  std::size_t top_k = 0;
  double mutation_prob = 0;
  bool fill = false;              // profile missing latency-table rows as they are needed
  std::string backend = "local";  // --fill on a device not in the table yet: local | fake
  std::string agent;              // --fill through `hwnas agent` (the token is not stored)
  // supernet:FILE accuracy: data, images scored, pre-screening (keep fraction; 1 = off).
  std::string accuracy_dataset = "fashion-mnist";
  std::size_t accuracy_samples = 1000;
  double prescreen = 1.0;

  nlohmann::json to_json() const {
    return {{"space", space},
            {"algorithm", algorithm},
            {"objectives", objectives},
            {"accuracy", accuracy},
            {"db", db},
            {"device", device},
            {"latency_max", latency_max},
            {"macs_max", macs_max},
            {"params_max", params_max},
            {"budget", budget},
            {"time_budget", time_budget},
            {"population", population},
            {"seed", seed},
            {"start", start},
            {"autoregressive", autoregressive},
            {"measure_threads", measure_threads},
            {"flops_window", flops_window},
            {"flops_window_width", flops_window_width},
            {"top_k", top_k},
            {"mutation_prob", mutation_prob},
            {"fill", fill},
            {"backend", backend},
            {"agent", agent},
            {"accuracy_dataset", accuracy_dataset},
            {"accuracy_samples", accuracy_samples},
            {"prescreen", prescreen}};
  }
  void from_json(const nlohmann::json& j) {
    try {
      space = j.at("space");
      algorithm = j.at("algorithm");
      objectives = j.at("objectives");
      accuracy = j.at("accuracy");
      db = j.at("db");
      device = j.at("device");
      latency_max = j.at("latency_max");
      macs_max = j.at("macs_max");
      params_max = j.at("params_max");
      budget = j.at("budget");
      time_budget = j.at("time_budget");
      population = j.at("population");
      seed = j.at("seed");
      start = j.at("start");
      autoregressive = j.at("autoregressive");
      measure_threads = j.at("measure_threads");
      // Added with flops-window-evolution: runs stored before it lack them.
      flops_window = j.value("flops_window", 0.0);
      flops_window_width = j.value("flops_window_width", 20.0);
      top_k = j.value("top_k", std::size_t{0});
      mutation_prob = j.value("mutation_prob", 0.0);
      fill = j.value("fill", false);
      backend = j.value("backend", std::string("local"));
      agent = j.value("agent", std::string());
      accuracy_dataset = j.value("accuracy_dataset", std::string("fashion-mnist"));
      accuracy_samples = j.value("accuracy_samples", std::size_t{1000});
      prescreen = j.value("prescreen", 1.0);
    } catch (const nlohmann::json::exception& e) {
      throw Error(std::string("the run's stored settings are incomplete: ") + e.what());
    }
  }
};

// The --fill predictor: the rows present now plus a filler measuring on the table's device.
std::shared_ptr<const FillingLutPredictor> make_filling_predictor(const SearchSettings& s,
                                                                  const std::string& token) {
  std::shared_ptr<const LutLatencyPredictor> present =
      LutLatencyPredictor::open_or_empty(s.db, s.device);
  std::optional<DeviceProfile> stored;
  if (std::filesystem::exists(s.db))
    stored = LatencyTable(s.db, LatencyTable::Mode::read_only).find_device(s.device);
  BackendChoice choice;
  if (stored) {
    choice = backend_for_device(*stored, s.agent, token);
    // New rows must be timed as the space's rows already there were.
    if (const auto mode = stored_block_timing(LatencyTable(s.db, LatencyTable::Mode::read_only),
                                              s.device, get_space(s.space).name()))
      choice.block_timing = *mode;
  } else {
    choice.agent = s.agent;
    choice.token = token;
    choice.fake = s.agent.empty() && s.backend == "fake";
    choice.threads = s.measure_threads;
  }
  std::shared_ptr<Backend> backend = make_backend(choice);
  return std::make_shared<FillingLutPredictor>(
      std::move(present), make_table_filler(s.db, s.device, backend, default_profile_timing()));
}

class SearchCommand final : public Command {
 public:
  void setup(CLI::App& app) override {
    app.description(
        "Search a space for the architectures that are best on a device: a Pareto front of "
        "accuracy (or, without an accuracy source, MACs) against latency under constraints. "
        "With no option but --out it runs the default: EfficientFormer on the host table "
        "(--db hwnas.db --device host), NSGA-II.");
    add_space_option(app, s_.space);
    app.add_option("--algorithm", s_.algorithm,
                   "random | nsga2 | evolution | generative | slimming | flops-window-evolution")
        ->capture_default_str();
    app.add_option("--objectives", s_.objectives,
                   "comma-separated: latency (LUT, min), latency-measured (engine, min), macs "
                   "(max unless written macs:min), params (min), accuracy (max); append :min/:max "
                   "to override. Default: latency,accuracy with --accuracy, else latency,macs");
    app.add_option("--accuracy", s_.accuracy,
                   "accuracy source: supernet:FILE.safetensors (subnets sliced from the supernet, "
                   "BN recalibrated, top-1 on the dataset's held-out val split in the engine), "
                   "external:CMD (JSON lines over CMD's stdin/stdout) or surrogate:FILE.csv (ridge "
                   "on one-hot genes; CSV header arch,accuracy)");
    app.add_option("--accuracy-dataset", s_.accuracy_dataset,
                   "supernet: fashion-mnist, a folder of its IDX files, or an ImageFolder DIR")
        ->capture_default_str();
    app.add_option("--accuracy-samples", s_.accuracy_samples,
                   "supernet: held-out images scored per subnet (0 = the whole split)")
        ->capture_default_str();
    app.add_option("--prescreen", s_.prescreen,
                   "supernet: share of each batch evaluated for real once an online ridge "
                   "surrogate has 24 evaluations (the rest keep its estimate in the archive, and "
                   "front.json counts front members that hold one); 1 = off")
        ->check(CLI::Range(0.01, 1.0))
        ->capture_default_str();
    app.add_option("--db", s_.db, "latency table database")->capture_default_str();
    app.add_option("--device", s_.device, "device of the latency table")->capture_default_str();
    app.add_option("--latency-max", s_.latency_max, "constraint: latency <= MS milliseconds");
    app.add_option("--macs-max", s_.macs_max, "constraint: MACs <= N (batch 1)");
    app.add_option("--params-max", s_.params_max, "constraint: parameters <= N");
    budget_opt_ = app.add_option("--budget", s_.budget, "evaluation budget (unique architectures)")
                      ->capture_default_str();
    time_opt_ =
        app.add_option("--time-budget", s_.time_budget, "wall-time budget in seconds (0 = none)");
    app.add_option("--population", s_.population, "population / generation size")
        ->capture_default_str();
    app.add_option("--seed", s_.seed, "random seed")->capture_default_str();
    app.add_option("--threads", threads_, "evaluation threads (0 = all cores)")
        ->capture_default_str();
    app.add_option("--start", s_.start, "slimming: the arch to start from (default: the largest)");
    app.add_flag("--autoregressive", s_.autoregressive,
                 "generative: condition each choice on the previous one");
    app.add_option("--flops-window", s_.flops_window,
                   "flops-window-evolution: the window's lower bound T in MFLOPs (ElasticViT's "
                   "reference FLOPs; hwnas MACs / 1e6 on other spaces); candidates outside "
                   "[T, T + width] are rejected");
    app.add_option("--flops-window-width", s_.flops_window_width,
                   "flops-window-evolution: window width in MFLOPs (the paper's 20)")
        ->capture_default_str();
    app.add_option("--top-k", s_.top_k,
                   "flops-window-evolution: survivors kept per generation (0 = population / 2)")
        ->capture_default_str();
    app.add_option("--mutation-prob", s_.mutation_prob,
                   "flops-window-evolution: per-dimension mutation probability (0 = the "
                   "reference code's 0.2)")
        ->capture_default_str();
    app.add_option("--measure-threads", s_.measure_threads, "latency-measured: engine threads")
        ->capture_default_str();
    app.add_flag("--fill", s_.fill,
                 "profile the latency-table rows a candidate lacks on the table's device (its "
                 "stored profile picks the fake backend or the local engine with its threads; "
                 "--agent for a remote device) and store them, instead of failing");
    app.add_option("--backend", s_.backend,
                   "--fill on a device not yet in the table: local (this process's engine, "
                   "--measure-threads threads) or fake (deterministic)")
        ->check(CLI::IsMember({"local", "fake"}))
        ->capture_default_str();
    app.add_option("--agent", s_.agent,
                   "--fill: measure through `hwnas agent` at http://HOST:PORT");
    app.add_option("--token", token_, "--fill: bearer token of the agent");
    app.add_option("--out", out_, "run directory (run.db, front.json)")->required();
    app.add_flag("--resume", resume_,
                 "continue the interrupted run in --out with its own settings");
  }

  int run() override {
    namespace fs = std::filesystem;
    const std::string db_path = out_ + "/run.db";
    if (resume_) {
      if (!fs::exists(db_path))
        throw Error("--resume: no run in '" + out_ + "' (no run.db); start one without --resume");
      RunStore probe(db_path);
      const auto cfg = probe.config();
      if (!cfg) throw Error("--resume: '" + db_path + "' holds no run settings");
      SearchSettings stored;
      stored.from_json(*cfg);
      // The budget may be extended on resume; everything else is the run's own.
      if (budget_opt_->count()) stored.budget = s_.budget;
      if (time_opt_->count()) stored.time_budget = s_.time_budget;
      s_ = stored;
    } else if (fs::exists(db_path)) {
      throw Error("'" + out_ +
                  "' already holds a run: pass --resume to continue it, or choose "
                  "another --out");
    }
    if (threads_ < 0) throw Error("--threads must be >= 0");
    const SearchSpace& space = get_space(s_.space);

    // Objectives and constraints.
    const bool has_accuracy = !s_.accuracy.empty();
    std::string objective_list = s_.objectives;
    if (objective_list.empty()) objective_list = has_accuracy ? "latency,accuracy" : "latency,macs";
    std::shared_ptr<const LatencyPredictor> lut;
    std::shared_ptr<const FillingLutPredictor> filling;
    auto latency_predictor = [&]() -> std::shared_ptr<const LatencyPredictor> {
      if (lut) return lut;
      if (s_.fill) {
        filling = make_filling_predictor(s_, token_);
        return lut = filling;
      }
      std::shared_ptr<const LutLatencyPredictor> table;
      try {
        table = LutLatencyPredictor::open(s_.db, s_.device);
      } catch (const Error&) {
        if (!missing_table_hook()) throw;
        missing_table_hook()(s_.db, s_.device, space);
        return lut = LutLatencyPredictor::open(s_.db, s_.device);
      }
      // A table of another space (the host table of EfficientFormer, say): let the hook add
      // this space's rows, judged by its smallest and largest members.
      if (missing_table_hook() && (!table->missing(space.decode(space.smallest())).empty() ||
                                   !table->missing(space.decode(space.largest())).empty())) {
        missing_table_hook()(s_.db, s_.device, space);
        table = LutLatencyPredictor::open(s_.db, s_.device);
      }
      return lut = table;
    };
    std::shared_ptr<AccuracyPredictor> accuracy;
    std::shared_ptr<SupernetAccuracy> supernet;
    std::shared_ptr<ScreenedAccuracy> screened;
    auto accuracy_predictor = [&]() -> std::shared_ptr<AccuracyPredictor> {
      if (accuracy) return accuracy;
      if (s_.accuracy.rfind("supernet:", 0) == 0) {
        SubnetEvalOptions eo;
        eo.dataset = s_.accuracy_dataset;
        eo.split = "val";
        eo.seed = 0;  // the split the supernet was trained on (tools/supernet), not the search seed
        eo.samples = s_.accuracy_samples;
        eo.threads = s_.measure_threads;
        supernet = std::make_shared<SupernetAccuracy>(space, s_.accuracy.substr(9), eo);
        accuracy = supernet;
        if (s_.prescreen < 1.0) {
          ScreeningOptions so;
          so.keep_fraction = s_.prescreen;
          screened = std::make_shared<ScreenedAccuracy>(space, supernet, so);
          accuracy = screened;
        }
      } else if (s_.accuracy.rfind("external:", 0) == 0)
        accuracy = std::make_shared<ExternalAccuracy>(
            space, ExternalAccuracyOptions{s_.accuracy.substr(9)});
      else if (s_.accuracy.rfind("surrogate:", 0) == 0)
        accuracy = SurrogateAccuracy::from_csv(space, s_.accuracy.substr(10));
      else if (s_.accuracy.empty())
        throw Error(
            "objective 'accuracy' needs --accuracy supernet:FILE, external:CMD or "
            "surrogate:FILE.csv");
      else
        throw Error("--accuracy '" + s_.accuracy +
                    "' is not supernet:FILE, external:CMD or surrogate:FILE.csv");
      return accuracy;
    };
    std::map<std::string, std::shared_ptr<Objective>> made;
    auto metric = [&](const std::string& name, Sense macs_sense) -> std::shared_ptr<Objective> {
      if (made.count(name)) return made[name];
      std::shared_ptr<Objective> o;
      if (name == "latency")
        o = std::make_shared<LatencyObjective>(space, latency_predictor());
      else if (name == "latency-measured")
        o = std::make_shared<MeasuredLatencyObjective>(
            space, MeasureOptions{s_.measure_threads, 1, {}, s_.seed});
      else if (name == "macs")
        o = std::make_shared<MacsObjective>(space, macs_sense);
      else if (name == "params")
        o = std::make_shared<ParamsObjective>(space);
      else if (name == "accuracy")
        o = std::make_shared<AccuracyObjective>(accuracy_predictor());
      else
        throw Error("unknown objective '" + name +
                    "'; known: latency, latency-measured, macs, params, accuracy");
      return made[name] = o;
    };
    std::vector<std::shared_ptr<Objective>> objectives;
    for (const auto& item : split(objective_list, ',')) {
      const auto parts = split(item, ':');
      const std::string name = parts.empty() ? item : parts[0];
      std::optional<Sense> sense;
      if (parts.size() == 2) sense = sense_from_name(parts[1]);
      if (parts.size() > 2) throw Error("objective '" + item + "' is not NAME or NAME:min|max");
      auto o = metric(name, sense.value_or(Sense::maximize));
      if (sense && *sense != o->sense())
        throw Error("objective '" + name + "' can only be " + std::string(sense_name(o->sense())) +
                    "imised");
      objectives.push_back(o);
    }
    std::vector<Constraint> constraints;
    if (s_.latency_max > 0) {
      const bool measured =
          std::any_of(objectives.begin(), objectives.end(),
                      [](const auto& o) { return o->name() == "latency-measured"; }) &&
          std::none_of(objectives.begin(), objectives.end(),
                       [](const auto& o) { return o->name() == "latency"; });
      constraints.push_back(
          {metric(measured ? "latency-measured" : "latency", Sense::maximize), s_.latency_max});
    }
    if (s_.macs_max > 0) constraints.push_back({metric("macs", Sense::minimize), s_.macs_max});
    if (s_.params_max > 0)
      constraints.push_back({metric("params", Sense::minimize), s_.params_max});
    if (s_.latency_max < 0 || s_.macs_max < 0 || s_.params_max < 0)
      throw Error("--latency-max, --macs-max and --params-max must be > 0");
    Problem problem(space, objectives, constraints);

    AlgorithmOptions ao;
    ao.name = s_.algorithm;
    ao.population = s_.population;
    ao.seed = s_.seed;
    ao.autoregressive = s_.autoregressive;
    ao.flops_window = s_.flops_window;
    ao.flops_window_width = s_.flops_window_width;
    ao.top_k = s_.top_k;
    ao.mutation_prob = s_.mutation_prob;
    if (!s_.start.empty()) ao.start = space.resolve(s_.start);
    auto algorithm = make_algorithm(ao, problem);

    fs::create_directories(out_);
    if (!resume_) {
      // The settings are in run.db from the moment it exists: a run killed before its first
      // commit must not leave a run.db that --resume cannot continue (no settings) and that a
      // fresh start refuses (a run is there).
      const std::string tmp = db_path + ".tmp";
      std::error_code ec;
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(tmp + suffix, ec);
      {
        RunStore fresh(tmp);
        fresh.set_config(s_.to_json());
      }
      fs::rename(tmp, db_path, ec);
      if (ec)
        throw Error("cannot create the run database '" + db_path + "': " + ec.message() +
                    "; choose another --out");
    }
    RunStore store(db_path);
    store.bind(problem);

    RunnerOptions ro;
    ro.max_evaluations = s_.budget;
    ro.max_seconds = s_.time_budget;
    ro.threads = threads_;
    // Every arch of a FLOPs-window run lies in the window; the bounds pair need not.
    ro.archive_bounds = s_.algorithm != "flops-window-evolution";
    if (s_.algorithm == "slimming" && !budget_opt_->count() && !resume_) ro.max_evaluations = 0;
    if (screened) ro.provisional = [&](const Arch& a) { return screened->estimated(a); };
    SearchRunner runner(problem, *algorithm, ro, &store);
    auto last_print = std::chrono::steady_clock::now() - std::chrono::seconds(10);
    runner.on_progress([&](const Progress& p) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_print < std::chrono::milliseconds(500)) return;
      last_print = now;
      std::fprintf(stderr, "generation %d: %zu evaluations, front %zu, hypervolume %.4f, %.1f s\n",
                   p.generation, p.evaluations, p.front_size, p.hypervolume, p.elapsed_s);
    });
    const auto t0 = std::chrono::steady_clock::now();
    const SearchResult result = runner.run();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    nlohmann::json extra = nlohmann::json::object();
    const nlohmann::json alg_result = algorithm->result();
    if (alg_result.is_object())
      for (const auto& [k, v] : alg_result.items()) extra[k] = v;
    extra["accuracy_source"] =
        has_accuracy && accuracy ? nlohmann::json(accuracy->source()) : nlohmann::json(nullptr);
    const bool uses_accuracy = problem.objective_index("accuracy") >= 0;
    if (!uses_accuracy)
      extra["note"] = "no accuracy source was used: the objectives are " + objective_list +
                      " (give --accuracy external:CMD or surrogate:FILE.csv and --objectives "
                      "latency,accuracy)";
    extra["resumed"] = result.resumed;
    if (supernet) {
      extra["supernet_evaluation"] = {{"evaluations", supernet->evaluations()},
                                      {"seconds", supernet->seconds()}};
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
    if (filling) {
      const FillReport fr = filling->report();
      extra["table_fill"] = {{"db", s_.db},
                             {"device", s_.device},
                             {"rows", fr.rows},
                             {"fills", fr.fills},
                             {"seconds", fr.seconds}};
    }
    const auto front =
        front_to_json(problem, result, RunInfo{s_.algorithm, s_.seed, s_.device}, extra);
    write_json_atomic(out_ + "/front.json", front);
    if (extra.contains("generator"))
      write_json_atomic(out_ + "/generator.json", extra["generator"]);
    // The report reads the table for its reference points (named members); with --fill it gets
    // the rows as they stand, so only evaluated archs cause measurements.
    const std::shared_ptr<const LatencyPredictor> report_table =
        filling ? std::shared_ptr<const LatencyPredictor>(filling->table()) : lut;
    write_default_report(load_run(out_), space, report_table.get(), device_json(s_.db, s_.device));

    std::printf("hwnas search: %s on %s, %zu evaluations (%d generations%s) in %.2f s; stop: %s\n",
                s_.algorithm.c_str(), space.name().c_str(), result.archive.size(),
                result.generations, result.resumed ? ", resumed" : "", seconds,
                result.stop_reason.c_str());
    std::printf("front: %zu architectures, hypervolume %.4f (normalised, reference point 1.1)\n",
                result.front.size(), result.hypervolume);
    if (filling) {
      const FillReport fr = filling->report();
      std::printf("latency table: filled %zu rows (%zu fills) of device '%s' in %s in %.2f s\n",
                  fr.rows, fr.fills, s_.device.c_str(), s_.db.c_str(), fr.seconds);
    }
    if (!uses_accuracy) std::printf("note: %s\n", extra["note"].get<std::string>().c_str());
    if (uses_accuracy) std::printf("accuracy: %s\n", accuracy->source().c_str());
    if (supernet)
      std::printf("supernet: %d subnets evaluated in the engine in %.1f s\n",
                  supernet->evaluations(), supernet->seconds());
    if (screened) {
      const ScreeningStats st = screened->stats();
      std::printf(
          "pre-screen: %d of %d scored archs evaluated, %d evaluations saved; surrogate "
          "Kendall tau %.3f on %d held-out evaluations; %zu front members re-evaluated "
          "for real (estimates confirmed), %d still hold an estimate\n",
          st.evaluated, st.asked, st.screened, st.heldout_kendall_tau, st.heldout_pairs,
          result.confirmed, extra["accuracy_prescreen"]["front_members_with_estimates"].get<int>());
    }
    const auto names = problem.objective_names();
    for (std::size_t i = 0; i < result.front.size() && i < 5; ++i) {
      const auto& e = result.archive[result.front[i]];
      std::printf(" ");
      for (std::size_t k = 0; k < names.size(); ++k)
        std::printf(" %s %.6g", names[k].c_str(), e.objectives[k]);
      std::printf("%s  %s\n", e.feasible() ? "" : " (infeasible)",
                  space.to_json(e.arch).dump().c_str());
    }
    if (result.front.size() > 5)
      std::printf("  ... %zu more in front.json\n", result.front.size() - 5);
    std::printf("wrote %s/front.json, %s/report.html and %s/run.db%s\n", out_.c_str(), out_.c_str(),
                out_.c_str(),
                extra.contains("generator") ? (" and " + out_ + "/generator.json").c_str() : "");
    return 0;
  }

 private:
  SearchSettings s_;
  int threads_ = 0;
  std::string out_;
  std::string token_;
  bool resume_ = false;
  CLI::Option* budget_opt_ = nullptr;
  CLI::Option* time_opt_ = nullptr;
};

HWNAS_REGISTER_COMMAND(SearchCommand, "search",
                       "Search a space for the Pareto front of accuracy/compute against latency");

}  // namespace
}  // namespace hwnas::apps
