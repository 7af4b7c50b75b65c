// `hwnas profile`: build (or resume) a device's latency table for a search space.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "apps/common.h"
#include "core/error.h"
#include "profilers/agent_backend.h"
#include "profilers/backend_registry.h"
#include "profilers/block_timing_choice.h"
#include "profilers/device_profile.h"
#include "profilers/fake_backend.h"
#include "profilers/local_backend.h"
#include "profilers/profiler.h"
#include "spaces/registry.h"

namespace hwnas::apps {
namespace {

class ProfileCommand final : public Command {
 public:
  void setup(CLI::App& app) override {
    app.footer(
        "Measures every unique block the space can produce at the resolution (or only the blocks "
        "of --archs) and stores medians in an SQLite latency table. Rows already present are "
        "skipped, so an interrupted run resumes; --force re-measures. Rows go under --device "
        "(default: host for the local engine, fake for --backend fake, the agent's own name "
        "with --agent).");
    add_space_option(app, space_);
    app.add_option(
        "--resolution", resolution_,
        "input resolution in pixels (default: 224 if the space allows it, else its first)");
    device_opt_ = app.add_option("--device", device_, "device name the rows are stored under");
    app.add_option("--db", db_, "latency table file")->capture_default_str();
    app.add_option("--threads", threads_, "engine threads (local backend)")->capture_default_str();
    app.add_option("--agent", agent_, "profile through `hwnas agent` at http://HOST:PORT");
    app.add_option("--token", token_, "bearer token of the agent");
    app.add_flag("--force", force_, "re-measure rows already in the table");
    app.add_option("--archs", archs_, "only the blocks of these archs (JSON lines file)");
    app.add_option("--backend", backend_, "local (this process's engine) or fake (deterministic)")
        ->check(CLI::IsMember({"local", "fake"}))
        ->capture_default_str();
    app.add_option("--block-timing", block_timing_,
                   "local backend: cold-weights (weights rotated out of cache, as inside a "
                   "network too big for the cache), hot (one instance back to back), or auto: the "
                   "one whose block sums match five whole networks timed end to end (the "
                   "space's largest and four drawn with --seed), chosen once per space and table")
        ->check(CLI::IsMember({"auto", "hot", "cold-weights"}))
        ->capture_default_str();
    app.add_option("--seed", seed_, "seed of the overhead networks (and the fake device)")
        ->capture_default_str();
    app.add_option("--overhead-networks", overhead_nets_,
                   "networks timed end to end for the per-inference overhead")
        ->capture_default_str();
    add_timing_options(app, "block", timing_, windows_);
    app.add_option("--noisy-retries", noisy_retries_,
                   "re-measure rows whose (p90 - p10) / median exceeds --max-spread, this many "
                   "times (a guard for shared, loaded machines)")
        ->capture_default_str();
    app.add_option("--max-spread", max_spread_, "spread above which a row counts as noisy")
        ->capture_default_str();
    app.add_flag("--json", json_, "print the report as JSON");
  }

  int run() override {
    const SearchSpace& space = get_space(space_);
    std::string device = device_;
    const bool named = device_opt_->count() > 0;
    if (!agent_.empty() && !named) device.clear();  // rows go under the agent's own name
    if (agent_.empty() && backend_ == "fake" && !named) device = "fake";
    if (overhead_nets_ < 0) throw Error("--overhead-networks must be >= 0");
    const bool local = agent_.empty() && backend_ == "local";
    const int resolution = resolution_ ? resolution_ : default_resolution(space);
    const std::vector<Arch> archs =
        archs_.empty() ? std::vector<Arch>{} : read_archs_jsonl(space, archs_);
    std::optional<LatencyTable> table;
    BlockTiming mode = BlockTiming::cold_weights;
    if (block_timing_ != "auto") {
      mode = block_timing_from_name(block_timing_);
    } else if (local) {
      // Chosen by timing whole networks against both row variants (block_timing_choice.h).
      table.emplace(db_, LatencyTable::Mode::read_write);
      std::vector<Network> probe;
      if (archs.empty()) {
        probe = block_timing_probe_networks(space, resolution, 4, seed_);
      } else {
        for (std::size_t i = 0; i < archs.size() && i < 5; ++i)
          probe.push_back(space.decode(archs[i]));
      }
      mode = resolve_local_block_timing(*table, host_device_profile(device, threads_, 1),
                                        space.name(), probe.front().input.h, probe, seed_, timing_,
                                        windows_, force_, &std::cerr);
    }
    BackendSpec spec;
    spec.name = agent_.empty() ? backend_ : "agent";
    spec.url = agent_;
    spec.token = token_;
    spec.threads = threads_;
    spec.seed = seed_;
    spec.block_timing = mode;
    const std::unique_ptr<Backend> backend = make_backend(spec);
    ProfileOptions opt;
    opt.device_name = device;
    opt.force = force_;
    opt.timing = timing_;
    opt.windows = windows_;
    opt.overhead_networks = overhead_nets_;
    opt.seed = seed_;
    opt.noisy_retries = noisy_retries_;
    opt.max_spread = max_spread_;
    opt.progress = &std::cerr;
    opt.progress_is_terminal = isatty(STDERR_FILENO) != 0;
    backend->device(device);  // an unreachable agent fails here, before the table file is created
    if (!table) table.emplace(db_, LatencyTable::Mode::read_write);
    const ProfileReport rep = archs.empty()
                                  ? profile_space(space, resolution, *table, *backend, opt)
                                  : profile_archs(space, archs, *table, *backend, opt);
    if (json_) {
      nlohmann::json j = {{"db", db_},
                          {"device", rep.device},
                          {"backend", rep.backend},
                          {"blocks_total", rep.blocks_total},
                          {"blocks_measured", rep.blocks_measured},
                          {"blocks_skipped", rep.blocks_skipped},
                          {"blocks_remeasured", rep.blocks_remeasured},
                          {"windows_timed", rep.windows_timed},
                          {"windows_retimed", rep.windows_retimed},
                          {"reference_ms", rep.reference_ms ? nlohmann::json(*rep.reference_ms)
                                                            : nlohmann::json(nullptr)},
                          {"seconds", rep.seconds},
                          {"overhead_ms", rep.overhead_ms ? nlohmann::json(*rep.overhead_ms)
                                                          : nlohmann::json(nullptr)}};
      std::cout << j.dump() << "\n";
    } else {
      std::printf("device '%s' in %s: %d blocks (%d measured, %d already present) in %.1f s",
                  rep.device.c_str(), db_.c_str(), rep.blocks_total, rep.blocks_measured,
                  rep.blocks_skipped, rep.seconds);
      if (rep.overhead_ms) std::printf("; per-inference overhead %.4f ms", *rep.overhead_ms);
      if (rep.windows_retimed > 0)
        std::printf("; %d of %d block windows timed again (disturbed)", rep.windows_retimed,
                    rep.windows_timed);
      std::printf("\n");
    }
    return 0;
  }

 private:
  std::string space_, device_ = "host", db_ = "hwnas.db", agent_, token_, archs_,
                      backend_ = "local", block_timing_ = "auto";
  CLI::Option* device_opt_ = nullptr;
  int resolution_ = 0, threads_ = 2, overhead_nets_ = 5, noisy_retries_ = 0;
  double max_spread_ = 0.5;
  bool force_ = false, json_ = false;
  std::uint64_t seed_ = 0;
  TimingConfig timing_ = default_profile_timing();
  int windows_ = 3;
};

HWNAS_REGISTER_COMMAND(ProfileCommand, "profile",
                       "Build or resume a device's block latency table (SQLite)");

}  // namespace
}  // namespace hwnas::apps
