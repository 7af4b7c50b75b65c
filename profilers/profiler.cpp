#include "profilers/profiler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <ostream>
#include <unordered_set>

#include "core/error.h"
#include "profilers/device_speed.h"

namespace hwnas {
namespace {

using Clock = std::chrono::steady_clock;

std::string format_seconds(double s) {
  char buf[32];
  const long t = static_cast<long>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  return buf;
}

class Progress {
 public:
  Progress(const ProfileOptions& o, int total)
      : out_(o.progress), tty_(o.progress_is_terminal), total_(total), start_(Clock::now()) {}
  void update(int done, const std::string& key) {
    if (!out_ || total_ == 0) return;
    const double el = std::chrono::duration<double>(Clock::now() - start_).count();
    const double eta = done > 0 ? el / done * (total_ - done) : 0.0;
    const int pct = static_cast<int>(100.0 * done / total_);
    char head[96];
    std::snprintf(head, sizeof head, "profile: %d/%d blocks (%d%%), elapsed %s, ETA %s", done,
                  total_, pct, format_seconds(el).c_str(), format_seconds(eta).c_str());
    if (tty_) {
      *out_ << "\r\033[K" << head << "  " << key.substr(0, 40) << std::flush;
      if (done == total_) *out_ << "\n";
    } else if (done == total_ || pct >= next_pct_) {
      *out_ << head << "\n" << std::flush;
      next_pct_ = pct + 10;
    }
  }

 private:
  std::ostream* out_;
  bool tty_;
  int total_;
  int next_pct_ = 10;
  Clock::time_point start_;
};

}  // namespace

// backend.measure_blocks over `part` in options.windows rounds, merged per block. Disturbed
// windows were timed again where they ran (TimingConfig::max_retimes); the report counts them.
static std::vector<TimingStats> measure_in_windows(Backend& backend,
                                                   const std::vector<BlockSpec>& part,
                                                   const ProfileOptions& options, Rng& order_rng,
                                                   ProfileReport& report) {
  const int windows = std::max(1, options.windows);
  const TimingConfig per_window = window_config(options.timing, windows);
  std::vector<std::vector<TimingStats>> parts(part.size());
  // Randomised interleaving: each window times the batch in its own order, so a block is not
  // always timed right after the same neighbour or at the same point of a slow stretch.
  for (int w = 0; w < windows; ++w) {
    const std::vector<std::size_t> order = random_permutation(part.size(), order_rng);
    std::vector<BlockSpec> shuffled;
    for (std::size_t k : order) shuffled.push_back(part[k]);
    const auto stats = backend.measure_blocks(shuffled, per_window);
    if (stats.size() != part.size())
      throw Error("backend " + backend.name() + " returned " + std::to_string(stats.size()) +
                  " results for " + std::to_string(part.size()) + " blocks");
    for (std::size_t i = 0; i < part.size(); ++i) parts[order[i]].push_back(stats[i]);
  }
  std::vector<TimingStats> out;
  for (const auto& p : parts) {
    out.push_back(merge_windows(p));
    report.windows_timed += out.back().conditions.windows;
    report.windows_retimed += out.back().conditions.retimed;
  }
  return out;
}

// FNV-1a of the networks' block keys: names a set of overhead networks across processes.
static std::string fingerprint(const std::vector<Network>& nets) {
  std::uint64_t h = 14695981039346656037ull;
  auto add = [&](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // separator: ["ab","c"] != ["a","bc"]
  };
  for (const auto& n : nets) {
    for (const auto& b : n.blocks) add(b.key());
    add("|");
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

TimingConfig default_profile_timing() {
  TimingConfig t;
  t.warmup = 5;
  t.min_repeats = 15;
  t.min_time_ms = 100.0;
  t.max_repeats = 10000;
  return t;
}

double measure_overhead(const std::vector<Network>& overhead_nets, LatencyTable& table,
                        Backend& backend, const std::string& device,
                        const ProfileOptions& options) {
  // Residual of whole networks over their block sums: what one inference costs beyond its
  // blocks (dispatch, input/output handling, thread wake-up).
  std::unordered_map<std::string, std::pair<double, double>> med;  // median, p10
  for (const auto& r : table.rows(device)) med[r.key] = {r.stats.median_ms, r.stats.p10_ms};
  std::vector<double> residuals, residuals_p10;
  nlohmann::json nets = nlohmann::json::array();
  const auto e2e_all =
      backend.measure_networks(overhead_nets, options.timing, std::max(1, options.windows));
  // Measured inside the runtime when it can see block boundaries: the residual below also
  // carries the noise of the table rows and the host's drift since they were timed (on a
  // shared VM, several ms either way).
  const auto direct =
      backend.inference_overheads(overhead_nets, options.timing, std::max(1, options.windows));
  for (std::size_t n = 0; n < overhead_nets.size(); ++n) {
    const Network& net = overhead_nets[n];
    double sum = 0, sum_p10 = 0;
    for (const auto& b : net.blocks) {
      const auto it = med.find(b.key());
      if (it == med.end())
        throw Error("overhead network needs block " + b.key() + " which is not in the table");
      sum += it->second.first;
      sum_p10 += it->second.second;
    }
    const TimingStats& e2e = e2e_all[n];
    residuals.push_back(e2e.median_ms - sum);
    residuals_p10.push_back(e2e.p10_ms - sum_p10);
    nets.push_back({{"e2e_ms", e2e.median_ms},
                    {"sum_ms", sum},
                    {"e2e_p10_ms", e2e.p10_ms},
                    {"sum_p10_ms", sum_p10}});
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  };
  if (direct) {
    for (std::size_t n = 0; n < overhead_nets.size(); ++n) {
      nets[n]["outside_blocks_ms"] = direct->at(n);
      nets[n]["residual_ms"] = residuals[n];
    }
    const double ms = median(*direct);
    table.set_calibration(device, "overhead",
                          {{"ms", ms},
                           {"ms_p10", ms},
                           {"method",
                            "median over networks of the time an inference spends "
                            "outside its blocks, measured in the runtime (block "
                            "trace); residual_ms = e2e - sum of table rows, kept "
                            "for diagnosis"},
                           {"residual_ms", median(residuals)},
                           {"networks", nets}});
  } else {
    table.set_calibration(device, "overhead",
                          {{"ms", median(residuals)},
                           {"ms_p10", median(residuals_p10)},
                           {"method",
                            "median over networks of (e2e - sum of blocks), for the "
                            "median (ms) and the p10 (ms_p10) statistic"},
                           {"networks", nets}});
  }
  return table.calibration(device, "overhead")->at("ms").get<double>();
}

void adopt_stored_kernel_choices(const LatencyTable& table, const std::string& device,
                                 Backend& backend) {
  if (const auto stored = table.calibration(device, kKernelChoices))
    backend.adopt_kernel_choices(*stored);
}

void store_kernel_choices(LatencyTable& table, const std::string& device, const Backend& backend) {
  if (const nlohmann::json choices = backend.kernel_choices();
      !choices.is_null() && table.calibration(device, kKernelChoices) != choices)
    table.set_calibration(device, kKernelChoices, choices);
}

ProfileReport profile_blocks(const std::vector<BlockSpec>& blocks_in,
                             const std::vector<Network>& overhead_nets, LatencyTable& table,
                             Backend& backend, const ProfileOptions& options) {
  const auto t0 = Clock::now();
  const DeviceProfile profile = backend.device(options.device_name);
  table.ensure_device(profile);
  adopt_stored_kernel_choices(table, profile.name, backend);
  ProfileReport report;
  report.device = profile.name;
  report.backend = backend.name();

  std::vector<BlockSpec> blocks;
  {
    std::unordered_set<BlockSpec, BlockSpecHash> seen;
    for (const auto& b : blocks_in)
      if (seen.insert(b).second) blocks.push_back(b);
  }
  report.blocks_total = static_cast<int>(blocks.size());
  std::vector<BlockSpec> todo;
  if (options.force) {
    todo = blocks;
  } else {
    const auto done = table.measured_keys(profile.name);  // predicted rows get measured
    for (const auto& b : blocks)
      if (!done.count(b.key())) todo.push_back(b);
  }
  report.blocks_skipped = report.blocks_total - static_cast<int>(todo.size());

  // Rows and the overhead are committed separately, so a run killed between the two leaves
  // rows the overhead has not seen, and its rerun measures no row. A marker set before the
  // first row and cleared with the overhead tells the rerun of the same command (the same
  // overhead networks; another space's command must not take its place) to compute it.
  const std::string pending = "overhead_pending:" + fingerprint(overhead_nets);
  bool marked = false;
  auto insert = [&](std::int64_t run, const std::vector<LatencyRow>& rows) {
    if (!marked && !overhead_nets.empty()) table.set_calibration(profile.name, pending, true);
    marked = true;
    store_kernel_choices(table, profile.name, backend);
    table.insert(profile.name, run, rows);
  };

  Rng order_rng(options.seed);  // the windows' block orders
  std::optional<ReferenceTimer> reference;
  if (!options.reference_space.empty()) reference.emplace(backend);
  // The space's own reference, one median per timing. A small table has one batch of rows,
  // and one timing caught in a slow burst put efficientformer-fmnist's reference 27 % high
  // (0.387 against 0.305 ms), so every table gets kSpaceTimings, spread over its batches.
  constexpr std::size_t kSpaceTimings = 8;
  std::vector<double> space_windows;
  auto time_space_reference = [&](std::size_t times) {
    for (std::size_t t = 0; t < times; ++t)
      space_windows.push_back(backend
                                  .measure_networks({options.space_reference->network},
                                                    options.timing, std::max(1, options.windows))
                                  .at(0)
                                  .median_ms);
  };
  if (!todo.empty()) {
    const std::int64_t run = table.begin_run(profile.name, backend.name(), options.timing);
    const std::size_t batch = static_cast<std::size_t>(std::max(1, backend.preferred_batch()));
    // The space's reference costs about as much as a batch of small rows; a fixed number of
    // timings, spread over the rows, keeps the 5-minute table within its budget.
    const std::size_t batches = (todo.size() + batch - 1) / batch;
    Progress progress(options, static_cast<int>(todo.size()));
    for (std::size_t i = 0; i < todo.size(); i += batch) {
      const std::vector<BlockSpec> part(
          todo.begin() + static_cast<std::ptrdiff_t>(i),
          todo.begin() + static_cast<std::ptrdiff_t>(std::min(todo.size(), i + batch)));
      // The duet reference: once per batch, so it samples the same stretch as the rows.
      if (reference) reference->time_window();
      if (options.space_reference) {
        const std::size_t b = i / batch;  // this batch's share of the timings
        time_space_reference((b + 1) * kSpaceTimings / batches - b * kSpaceTimings / batches);
      }
      const auto stats = measure_in_windows(backend, part, options, order_rng, report);
      std::vector<LatencyRow> rows;
      for (std::size_t k = 0; k < part.size(); ++k) rows.push_back({part[k].key(), stats[k], ""});
      insert(run, rows);
      report.blocks_measured += static_cast<int>(part.size());
      progress.update(report.blocks_measured, part.back().key());
    }
  }
  // The reference is written after the rows, so a kill between the two leaves rows and no
  // reference, and the rerun measures no row: it times the reference alone then.
  const std::string reference_key = "reference:" + options.reference_space;
  if (reference && reference->window_ms().empty() &&
      !table.calibration(profile.name, reference_key) && !table.rows(profile.name).empty())
    reference->time_window();
  if (options.space_reference && space_windows.empty() &&
      !table.calibration(profile.name, options.space_reference->key) &&
      !table.rows(profile.name).empty())
    time_space_reference(kSpaceTimings);
  // Rows of earlier sessions stay in the table: their windows stay in the reference, as long as
  // they timed the same network (`same` names what must match).
  auto store_pooled = [&](const std::string& key, nlohmann::json value, const char* same) {
    if (const auto old = table.calibration(profile.name, key);
        old && old->is_object() && old->contains("window_ms") && old->at("window_ms").is_array() &&
        old->contains(same) && old->at(same) == value.at(same))
      for (const auto& w : old->at("window_ms"))
        if (w.is_number()) value["window_ms"].push_back(w);
    std::vector<double> all;
    for (const auto& w : value["window_ms"]) all.push_back(w.get<double>());
    value["ms"] = summarize_ms(std::move(all)).median_ms;
    table.set_calibration(profile.name, key, value);
    return value["ms"].get<double>();
  };
  if (reference && !reference->window_ms().empty())
    report.reference_ms = store_pooled(reference_key, reference->to_json(), "network");
  if (!space_windows.empty())
    report.space_reference_ms = store_pooled(
        options.space_reference->key,
        {{"arch", options.space_reference->arch}, {"window_ms", space_windows}}, "arch");

  // Noise guard: preemption on a shared machine inflates some rows; time those again.
  auto spread = [](const TimingStats& s) {
    return s.median_ms > 0 ? (s.p90_ms - s.p10_ms) / s.median_ms : 0.0;
  };
  for (int retry = 0; retry < options.noisy_retries; ++retry) {
    std::unordered_map<std::string, TimingStats> stored;
    for (const auto& r : table.rows(profile.name)) stored[r.key] = r.stats;
    std::vector<BlockSpec> noisy;
    for (const auto& b : blocks) {
      const auto it = stored.find(b.key());
      if (it != stored.end() && spread(it->second) > options.max_spread) noisy.push_back(b);
    }
    if (noisy.empty()) break;
    const std::int64_t run = table.begin_run(profile.name, backend.name(), options.timing);
    const std::size_t batch = static_cast<std::size_t>(std::max(1, backend.preferred_batch()));
    for (std::size_t i = 0; i < noisy.size(); i += batch) {
      const std::vector<BlockSpec> part(
          noisy.begin() + static_cast<std::ptrdiff_t>(i),
          noisy.begin() + static_cast<std::ptrdiff_t>(std::min(noisy.size(), i + batch)));
      const auto stats = backend.measure_blocks(part, options.timing);
      std::vector<LatencyRow> rows;
      for (std::size_t k = 0; k < part.size() && k < stats.size(); ++k)
        if (spread(stats[k]) < spread(stored[part[k].key()]))
          rows.push_back({part[k].key(), stats[k], ""});
      insert(run, rows);
      report.blocks_remeasured += static_cast<int>(part.size());
    }
  }

  auto overhead = table.calibration(profile.name, "overhead");
  const auto marker = table.calibration(profile.name, pending);
  const bool was_pending = marker && *marker == true;
  if ((!overhead || options.force || report.blocks_measured > 0 || report.blocks_remeasured > 0 ||
       was_pending) &&
      !overhead_nets.empty()) {
    measure_overhead(overhead_nets, table, backend, profile.name, options);
    overhead = table.calibration(profile.name, "overhead");
    if (marked || was_pending) table.set_calibration(profile.name, pending, false);
  }
  if (overhead && overhead->contains("ms")) report.overhead_ms = (*overhead)["ms"].get<double>();
  // The overhead networks may have timed a choice no row needed.
  store_kernel_choices(table, profile.name, backend);
  report.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return report;
}

// `a` with its resolution gene set, repaired and validated.
static Arch at_resolution(const SearchSpace& space, Arch a, int resolution) {
  const auto& dims = space.dims();
  for (std::size_t i = 0; i < dims.size(); ++i)
    if (dims[i].name == "resolution") a.genes.at(i) = resolution;
  space.repair(a);
  space.validate(a);
  return a;
}

Arch sample_at_resolution(const SearchSpace& space, Rng& rng, int resolution) {
  return at_resolution(space, space.sample(rng), resolution);
}

Arch largest_at_resolution(const SearchSpace& space, int resolution) {
  return at_resolution(space, space.largest(), resolution);
}

ProfileWork space_profile_work(const SearchSpace& space, int resolution,
                               const ProfileOptions& options) {
  ProfileWork work;
  work.blocks = space.enumerate_blocks(resolution);
  Rng rng(options.seed);
  for (int i = 0; i < options.overhead_networks; ++i)
    work.overhead_networks.push_back(space.decode(sample_at_resolution(space, rng, resolution)));
  return work;
}

ProfileWork archs_profile_work(const SearchSpace& space, const std::vector<Arch>& archs,
                               const ProfileOptions& options) {
  ProfileWork work;
  for (const auto& a : archs) {
    Network net = space.decode(a);
    work.blocks.insert(work.blocks.end(), net.blocks.begin(), net.blocks.end());
    if (static_cast<int>(work.overhead_networks.size()) < options.overhead_networks)
      work.overhead_networks.push_back(std::move(net));
  }
  return work;
}

ProfileReport profile_space(const SearchSpace& space, int resolution, LatencyTable& table,
                            Backend& backend, const ProfileOptions& options) {
  const ProfileWork work = space_profile_work(space, resolution, options);
  ProfileOptions with_reference = options;
  with_reference.reference_space = space.name();
  with_reference.space_reference = space_reference(space, resolution);
  return profile_blocks(work.blocks, work.overhead_networks, table, backend, with_reference);
}

ProfileReport profile_archs(const SearchSpace& space, const std::vector<Arch>& archs,
                            LatencyTable& table, Backend& backend, const ProfileOptions& options) {
  const ProfileWork work = archs_profile_work(space, archs, options);
  ProfileOptions with_reference = options;
  with_reference.reference_space = space.name();
  return profile_blocks(work.blocks, work.overhead_networks, table, backend, with_reference);
}

std::vector<Arch> read_archs_jsonl(const SearchSpace& space, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read archs file " + path + " (expected JSON lines, one arch each)");
  std::vector<Arch> out;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      nlohmann::json j = nlohmann::json::parse(line);
      if (j.is_object() && j.contains("arch")) j = j["arch"];
      out.push_back(space.from_json(j));
    } catch (const nlohmann::json::exception& e) {
      throw Error(path + ":" + std::to_string(lineno) + ": not valid JSON (" + e.what() + ")");
    } catch (const Error& e) {
      throw Error(path + ":" + std::to_string(lineno) + ": " + e.what());
    }
  }
  if (out.empty()) throw Error("archs file " + path + " holds no arch");
  return out;
}

}  // namespace hwnas
