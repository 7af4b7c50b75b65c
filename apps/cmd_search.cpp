// `hwnas search`: flags to a RunConfig, results/search_run.h's run_search, and a summary.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "apps/command.h"
#include "apps/common.h"
#include "core/error.h"
#include "distributed/distributed_search.h"
#include "evaluators/quant/engine_precision.h"
#include "predictors/accuracy_source.h"
#include "profilers/host_table.h"
#include "results/search_run.h"
#include "search/algorithm_registry.h"

namespace hwnas::apps {
namespace {

// `hwnas search`'s --prescreen for a supernet accuracy in one process.
constexpr double kDefaultPrescreen = 0.5;

class SearchCommand final : public Command {
 public:
  void setup(CLI::App& app) override {
    app.description(
        "Search a space for the architectures that are best on a device: a Pareto front of "
        "accuracy (or, without an accuracy source, MACs) against latency under constraints. "
        "With no option but --out it runs the default: EfficientFormer on the host table "
        "(--db hwnas.db --device host, profiled first if missing), NSGA-II.");
    RunConfig& c = config_;
    add_space_option(app, c.space);
    std::string algorithms;
    for (const auto& t : algorithm_registry())
      algorithms += (algorithms.empty() ? "" : " | ") + t.name;
    app.add_option("--algorithm", c.algorithm, algorithms + " (regularized-evolution = evolution)")
        ->capture_default_str();
    app.add_option("--objectives", c.objectives,
                   "comma-separated: latency (LUT, min), latency-measured (engine, min), macs "
                   "(max unless written macs:min), params (min), accuracy (max); append :min/:max "
                   "to override. Default: latency,accuracy with --accuracy, else latency,macs");
    app.add_option("--accuracy", c.accuracy,
                   "accuracy source: supernet:FILE.safetensors (subnets sliced from the supernet, "
                   "BN recalibrated, top-1 on the dataset's held-out val split in the engine), "
                   "external:CMD (JSON lines over CMD's stdin/stdout) or surrogate:FILE.csv (ridge "
                   "on one-hot genes; CSV header arch,accuracy)");
    app.add_option("--accuracy-dataset", c.accuracy_dataset,
                   "supernet: fashion-mnist, a folder of its IDX files, or an ImageFolder DIR")
        ->capture_default_str();
    app.add_option("--accuracy-samples", c.accuracy_samples,
                   "supernet: held-out images scored per subnet (0 = the whole split)")
        ->capture_default_str();
    c.final_samples = 0;  // the CLI re-scores the front on the whole val split by default
    app.add_option("--final-samples", c.final_samples,
                   "supernet: once the search ends, re-score the first two non-dominated ranks "
                   "on this many val images (0 = the whole split, 5,000 for Fashion-MNIST) and "
                   "draw the front from them; -1 = off")
        ->capture_default_str();
    app.add_option("--prescreen", prescreen_,
                   "supernet: share of each batch evaluated for real once an online ridge "
                   "surrogate has 24 evaluations (the rest keep its estimate in the archive, and "
                   "front.json counts front members that hold one); 1 = off. Default 0.5 in one "
                   "process (the final re-scoring then scores the front for real), 1 under "
                   "mpirun, where the surrogate cannot follow the evaluation order");
    app.add_option("--db", c.db, "latency table database")->capture_default_str();
    device_opt_ = app.add_option("--device", c.device,
                                 "device of the latency table (default host, or host-int8 with "
                                 "--precision int8; with mixed, DEVICE and DEVICE-int8)")
                      ->capture_default_str();
    app.add_option("--precision", c.precision,
                   "fp32, or int8: accuracy of the quantized subnets (supernet:) and latency "
                   "from an int8 table (profiled on first use for host-int8; AVX2, VNNI or AMX); "
                   "or mixed: a precision gene per stage (space SPACE+precision), each subnet "
                   "quantized where its genes say, latency from the fp32 and int8 tables")
        ->check(CLI::IsMember({"fp32", "int8", "mixed"}))
        ->capture_default_str();
    depthwise_opt_ = add_depthwise_option(
        app, depthwise_,
        "with --precision int8 or mixed, depthwise convolutions (of the int8 stages) in int8, "
        "each shape in the faster of the two as the int8 table's stored timings say (`hwnas "
        "profile --precision int8 --depthwise faster`; device host-int8-dwfaster, or "
        "DEVICE-int8-dwfaster beside DEVICE with mixed), or kept fp32");
    app.add_option("--latency-max", c.latency_max_ms, "constraint: latency <= MS milliseconds");
    app.add_option("--macs-max", c.macs_max, "constraint: MACs <= N (batch 1)");
    app.add_option("--params-max", c.params_max, "constraint: parameters <= N");
    app.add_option("--budget", budget_,
                   "evaluation budget (unique architectures); default 2000, none for slimming");
    app.add_option("--time-budget", time_budget_, "wall-time budget in seconds (0 = none)");
    app.add_option("--population", c.population, "population / generation size")
        ->capture_default_str();
    app.add_option("--seed", c.seed, "random seed")->capture_default_str();
    app.add_option("--threads", options_.threads, "evaluation threads (0 = all cores)")
        ->capture_default_str();
    // The algorithms' own parameters: each lands in RunConfig::algorithm_params only when
    // given, and the algorithm's traits reject one it does not take.
    param<std::string>(app, "--start", "start",
                       "slimming: the arch to start from (default: the largest)");
    param<double>(app, "--flops-window", "flops_window",
                  "flops-window-evolution: the window's lower bound T in MFLOPs (ElasticViT's "
                  "reference FLOPs; hwnas MACs / 1e6 on other spaces)");
    param<double>(app, "--flops-window-width", "flops_window_width",
                  "flops-window-evolution: window width in MFLOPs (default: the paper's 20)");
    param<std::size_t>(app, "--top-k", "top_k",
                       "flops-window-evolution: survivors per generation (0 = population / 2)");
    param<double>(app, "--mutation-prob", "mutation_prob",
                  "flops-window-evolution: per-dimension mutation probability (0 = 0.2)");
    app.add_flag_callback(
        "--autoregressive", [this] { config_.algorithm_params["autoregressive"] = true; },
        "generative: condition each choice on the previous one");
    app.add_option("--eval-timeout", c.eval_timeout_s,
                   "longest wait for one evaluation in seconds: an external: command's answer "
                   "(0: 120 s) and, under mpirun, a worker rank's (0: none; it gets 5 s more). "
                   "Past it the evaluation fails: it is recorded and the search goes on")
        ->capture_default_str();
    app.add_option("--max-failures", max_failures_,
                   "failed evaluations (a crashing, hanging or erring external: command, a rank "
                   "past --eval-timeout) a run records and goes on from; one more stops it "
                   "(default 10; may be raised on --resume)");
    app.add_option("--measure-threads", c.measure_threads,
                   "supernet accuracy and latency-measured: engine threads")
        ->capture_default_str();
    app.add_flag("--fill", c.fill,
                 "profile the latency-table rows a candidate lacks on the table's device (its "
                 "stored profile picks the backend; --agent for a remote device) and store "
                 "them, instead of failing");
    app.add_option("--backend", c.backend,
                   "--fill on a device not yet in the table: local (this process's engine, "
                   "--measure-threads threads) or fake (deterministic)")
        ->capture_default_str();
    app.add_option("--agent", c.agent, "--fill: measure through `hwnas agent` at http://HOST:PORT");
    app.add_option("--token", options_.agent_token, "--fill: bearer token of the agent");
    app.add_option("--out", out_, "run directory (run.db, front.json)")->required();
    app.add_flag("--resume", options_.resume,
                 "continue the interrupted run in --out with its own settings");
  }

  int run() override {
    RunConfig config = config_;
    if (depthwise_opt_->count() > 0) {
      if (config.precision != "int8" && config.precision != "mixed")
        throw Error("--depthwise applies to --precision int8 and mixed; drop it for " +
                    config.precision);
      const DepthwisePrecision rule = parse_depthwise_precision(depthwise_);
      config.precision =
          config.precision == "int8" ? int8_precision_name(rule) : mixed_precision_name(rule);
    }
    if (device_opt_->count() == 0) config.device = host_device_name(config.precision);
    // Screening halves the engine evaluations of a supernet search (README: the main job's 8
    // minutes become 5.5 at equal hypervolume); the library's RunConfig keeps 1 (off).
    config.prescreen = prescreen_.value_or(
        !supernet_file(config.accuracy).empty() && !mpi::launched_by_mpirun() ? kDefaultPrescreen
                                                                              : 1.0);
    // A resumed run keeps its own configuration; only its budgets may be extended.
    if (options_.resume) config = load_run_config(out_);
    if (budget_) config.budget = *budget_;
    if (time_budget_) config.time_budget_s = *time_budget_;
    if (max_failures_) config.max_failures = *max_failures_;
    options_.log = &std::cerr;
    auto last = std::chrono::steady_clock::now() - std::chrono::seconds(10);
    options_.on_progress = [&last](const Progress& p) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::milliseconds(500)) return;
      last = now;
      std::fprintf(stderr, "generation %d: %zu evaluations, front %zu, hypervolume %.4f, %.1f s\n",
                   p.generation, p.evaluations, p.front_size, p.hypervolume, p.elapsed_s);
    };
    if (mpi::launched_by_mpirun()) {
      // One rank of `mpirun -n N hwnas search ...`: rank 0 searches, the others evaluate.
      mpi::Session session;
      auto last_shares = last;
      const auto report = mpi::run_search_distributed(
          session, config, out_, options_, [&last_shares](const std::vector<mpi::RankShare>& s) {
            const auto now = std::chrono::steady_clock::now();
            if (now - last_shares < std::chrono::milliseconds(500)) return;
            last_shares = now;
            std::string line = "  evaluations per rank:";
            for (std::size_t r = 1; r < s.size(); ++r)
              line += " " + std::to_string(r) + ":" + std::to_string(s[r].evaluations);
            std::fprintf(stderr, "%s\n", line.c_str());
          });
      if (report) {
        std::fputs((search_summary(report->report, out_) + mpi::rank_summary(*report)).c_str(),
                   stdout);
        if (!report->retired.empty() || !report->all_ranks_finished) {
          // The run is complete and saved; only a hung rank is left, and MPI_Finalize would
          // wait for it forever.
          std::fprintf(stderr,
                       "hwnas search: the run is complete; ending the job with MPI_Abort (exit "
                       "0) to stop %s\n",
                       report->retired.empty()
                           ? "a rank that did not reach the end within --eval-timeout"
                           : "the retired rank(s)");
          std::fflush(stdout);
          std::fflush(stderr);
          mpi::abort_job(0);
        }
      }
      return 0;
    }
    std::fputs(search_summary(run_search(config, out_, options_), out_).c_str(), stdout);
    return 0;
  }

 private:
  template <typename T>
  void param(CLI::App& app, const std::string& flag, const std::string& key,
             const std::string& help) {
    app.add_option_function<T>(
        flag, [this, key](const T& v) { config_.algorithm_params[key] = v; }, help);
  }

  RunConfig config_;
  CLI::Option* device_opt_ = nullptr;
  SearchRunOptions options_;
  std::optional<std::size_t> budget_;
  std::optional<double> time_budget_;
  std::string depthwise_;
  CLI::Option* depthwise_opt_ = nullptr;
  std::optional<std::size_t> max_failures_;
  std::optional<double> prescreen_;
  std::string out_;
};

HWNAS_REGISTER_COMMAND(SearchCommand, "search",
                       "Search a space for the Pareto front of accuracy/compute against latency");

}  // namespace
}  // namespace hwnas::apps
