#include "predictors/few_shot_table.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "predictors/latency_transfer.h"
#include "spaces/registry.h"

namespace hwnas {
namespace {

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

// The source device's rows, by key; the file's only device when none is named.
std::unordered_map<std::string, TimingStats> read_source(const FewShotSource& src,
                                                         std::string& device) {
  const LatencyTable table(src.db, LatencyTable::Mode::read_only);
  device = src.device;
  if (device.empty()) {
    const auto devices = table.devices();
    if (devices.size() != 1) {
      std::string names;
      for (const auto& d : devices) names += (names.empty() ? "" : ", ") + d.name;
      throw Error("few-shot source " + src.db + " holds " + std::to_string(devices.size()) +
                  " devices (" + (names.empty() ? "none" : names) + "); name one as " + src.db +
                  "#DEVICE");
    }
    device = devices.front().name;
  }
  std::unordered_map<std::string, TimingStats> out;
  for (const auto& r : table.rows(device)) out[r.key] = r.stats;
  return out;
}

}  // namespace

FewShotSource parse_few_shot_source(const std::string& arg) {
  FewShotSource s;
  const auto hash = arg.rfind('#');
  s.db = arg.substr(0, hash);
  if (hash != std::string::npos) {
    s.device = arg.substr(hash + 1);
    if (s.device.empty())
      throw Error("--few-shot " + arg + ": empty device after '#'; give SOURCE.db#DEVICE");
  }
  if (s.db.empty())
    throw Error("--few-shot needs a source latency table, SOURCE.db or SOURCE.db#DEVICE");
  return s;
}

FewShotBudget parse_few_shot_budget(const std::string& arg) {
  FewShotBudget b;
  b.text = arg;
  const std::string bad = "--budget " + arg + ": expected a block count N or a percentage P%";
  try {
    std::size_t used = 0;
    if (!arg.empty() && arg.back() == '%') {
      b.percent = std::stod(arg.substr(0, arg.size() - 1), &used);
      if (used != arg.size() - 1 || !(b.percent > 0) || b.percent > 100)
        throw Error(bad + " with 0 < P <= 100");
    } else {
      b.blocks = std::stoi(arg, &used);
      if (used != arg.size() || b.blocks < 1) throw Error(bad + " with N >= 1");
    }
  } catch (const std::logic_error&) {
    throw Error(bad);
  }
  return b;
}

int budget_block_count(const FewShotBudget& budget, std::size_t total) {
  const double n = budget.percent > 0
                       ? std::ceil(budget.percent / 100.0 * static_cast<double>(total) - 1e-9)
                       : budget.blocks;
  return static_cast<int>(std::clamp(n, 1.0, static_cast<double>(std::max<std::size_t>(1, total))));
}

ExpectedNetworkError expected_network_error(const std::vector<Network>& nets,
                                            const TransferredTable& table, double overhead_ms) {
  const LatencyTransfer& model = table.model;
  ExpectedNetworkError e;
  std::vector<double> sds;
  double within = 0;
  for (const auto& net : nets) {
    std::map<std::string, std::pair<int, BlockKind>> count;
    double total = overhead_ms;
    for (const auto& b : net.blocks) {
      total += table.ms.at(b.key());
      auto& c = count[b.key()];
      ++c.first;
      c.second = b.kind;
    }
    double var = 0;
    std::map<BlockKind, double> kind_ms;
    for (const auto& [key, c] : count) {
      if (!table.predicted.count(key)) continue;
      // Repeats of one block share its error; distinct blocks' errors are independent.
      const double ms = c.first * table.ms.at(key);
      const double s = model.log_sigma(c.second);
      var += ms * ms * s * s;
      kind_ms[c.second] += ms;
    }
    for (const auto& [kind, ms] : kind_ms) {
      const double s = model.log_sigma(kind) / std::sqrt(std::max(1, model.samples(kind)));
      var += ms * ms * s * s;
    }
    const double sd = total > 0 ? std::sqrt(var) / total : 0;
    sds.push_back(sd);
    within += sd > 0 ? std::erf(0.10 / (sd * std::sqrt(2.0))) : 1.0;
  }
  e.networks = static_cast<int>(nets.size());
  e.median_sd = quantile(sds, 0.5);
  e.p95_sd = quantile(sds, 0.95);
  e.within_10 = nets.empty() ? 0 : within / static_cast<double>(nets.size());
  return e;
}

std::vector<Network> usage_networks(const SearchSpace& space, int resolution, int count,
                                    std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Network> nets;
  for (int i = 0; i < count; ++i)
    nets.push_back(space.decode(sample_at_resolution(space, rng, resolution)));
  return nets;
}

std::vector<std::size_t> choose_few_shot_blocks(const std::vector<BlockSpec>& blocks,
                                                const std::vector<BlockPoint>& points,
                                                const std::vector<bool>& measured, int count,
                                                const std::vector<Network>& nets) {
  // No networks to weigh by: every block matters alike (plain k-center).
  if (nets.empty()) return choose_blocks_k_center(points, measured, count);
  std::vector<double> source_ms;
  for (const auto& p : points) source_ms.push_back(std::exp(p.log_source_ms));
  return choose_blocks_k_center(points, measured, count, usage_weights(blocks, source_ms, nets));
}

std::vector<double> few_shot_fit_weights(const std::vector<BlockSpec>& blocks,
                                         const std::vector<BlockPoint>& points,
                                         const std::vector<Network>& nets) {
  if (nets.empty()) return {};  // no usage to weigh by: equal weights
  std::vector<double> source_ms;
  for (const auto& p : points) source_ms.push_back(std::exp(p.log_source_ms));
  std::vector<double> w = usage_weights(blocks, source_ms, nets);
  for (double& x : w) x = std::sqrt(x);
  return w;
}

TransferredTable transfer_table(const std::vector<BlockSpec>& blocks,
                                const std::vector<BlockPoint>& points,
                                const std::unordered_map<std::string, double>& measured_ms,
                                const std::vector<double>& weights) {
  if (!weights.empty() && weights.size() != blocks.size())
    throw Error("transfer_table: " + std::to_string(weights.size()) + " weights for " +
                std::to_string(blocks.size()) + " blocks");
  std::vector<TransferSample> samples;
  for (std::size_t i = 0; i < blocks.size(); ++i)
    if (const auto it = measured_ms.find(blocks[i].key()); it != measured_ms.end())
      samples.push_back({points[i], it->second, weights.empty() ? 1.0 : weights[i]});
  TransferredTable t{LatencyTransfer::fit(samples), {}, {}};
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    std::string key = blocks[i].key();
    if (const auto it = measured_ms.find(key); it != measured_ms.end()) {
      t.ms[key] = it->second;
    } else {
      t.ms[key] = t.model.predict_ms(points[i]);
      t.predicted.insert(std::move(key));
    }
  }
  return t;
}

FewShotReport run_few_shot_profile(const ProfileRunConfig& config, const FewShotConfig& fs) {
  const auto t0 = std::chrono::steady_clock::now();
  FewShotReport rep;
  std::string source_device;
  const auto source = read_source(fs.source, source_device);
  rep.source = fs.source.db + "#" + source_device;
  rep.space = config.space;

  ProfileJob job = prepare_profile(config);
  LatencyTable& table = *job.table;
  const DeviceProfile profile = job.backend->device(job.options.device_name);
  if (profile.name == source_device && std::filesystem::weakly_canonical(fs.source.db) ==
                                           std::filesystem::weakly_canonical(config.db))
    throw Error("--few-shot source " + rep.source +
                " is the device being profiled; give another device's table as the source");
  table.ensure_device(profile);
  job.options.device_name = profile.name;

  std::vector<BlockSpec> blocks;
  {
    std::unordered_set<BlockSpec, BlockSpecHash> seen;
    for (const auto& b : job.work.blocks)
      if (seen.insert(b).second) blocks.push_back(b);
  }
  std::vector<BlockPoint> points;
  std::size_t missing = 0;
  std::string first_missing;
  for (const auto& b : blocks) {
    const auto it = source.find(b.key());
    if (it == source.end()) {
      if (missing++ == 0) first_missing = b.key();
      continue;
    }
    points.push_back(block_point(b, it->second.median_ms));
  }
  if (missing > 0)
    throw Error("few-shot source " + rep.source + " lacks " + std::to_string(missing) + " of the " +
                std::to_string(blocks.size()) + " blocks (first: " + first_missing +
                "); fill it with `hwnas profile --space " + config.space + " --db " + fs.source.db +
                " --device " + source_device + "`");

  rep.blocks_total = static_cast<int>(blocks.size());
  rep.budget_blocks = budget_block_count(fs.budget, blocks.size());
  const auto measured_keys = table.measured_keys(profile.name);
  std::vector<bool> measured(blocks.size());
  for (std::size_t i = 0; i < blocks.size(); ++i)
    measured[i] = !job.options.force && measured_keys.count(blocks[i].key()) > 0;
  rep.measured_before = static_cast<int>(std::count(measured.begin(), measured.end(), true));
  if (std::max(rep.budget_blocks, rep.measured_before) < 3)
    throw Error("--budget " + fs.budget.text + " measures " + std::to_string(rep.budget_blocks) +
                " of the " + std::to_string(blocks.size()) +
                " blocks; the transfer model needs at least 3");
  const SearchSpace& space = get_space(config.space);
  std::vector<Network> usage;
  if (config.archs.empty()) {
    usage = usage_networks(space, job.resolution, fs.usage_networks, job.options.seed + 2);
  } else {
    for (const auto& a : config.archs) usage.push_back(space.decode(a));
  }
  const auto picks = choose_few_shot_blocks(
      blocks, points, measured, std::max(0, rep.budget_blocks - rep.measured_before), usage);
  std::vector<BlockSpec> chosen;
  for (std::size_t i : picks) chosen.push_back(blocks[i]);
  // No overhead networks here: their blocks are mostly not measured yet; the overhead is
  // measured below, once every block has a row.
  rep.profile = profile_blocks(chosen, {}, table, *job.backend, job.options);

  std::unordered_map<std::string, double> target;
  for (const auto& r : table.rows(profile.name))
    if (r.origin == RowOrigin::measured) target[r.key] = r.stats.median_ms;
  const TransferredTable filled =
      transfer_table(blocks, points, target, few_shot_fit_weights(blocks, points, usage));
  const LatencyTransfer& model = filled.model;
  rep.measured = static_cast<int>(model.samples());
  rep.cv_error = model.cv_error();
  rep.model = model.to_json();

  const std::string predicted_by = "few-shot " + rep.model["model"].get<std::string>() + " from " +
                                   rep.source + ", " + std::to_string(rep.measured) +
                                   " measured blocks";
  std::vector<LatencyRow> rows;
  for (const auto& b : blocks) {
    const std::string key = b.key();
    if (!filled.predicted.count(key)) continue;
    // The source row's spread, scaled to the prediction, stands in for the statistics.
    const TimingStats& s = source.at(key);
    const double ms = filled.ms.at(key);
    const double scale = s.median_ms > 0 ? ms / s.median_ms : 1.0;
    LatencyRow r;
    r.key = key;
    r.stats.median_ms = ms;
    r.stats.p10_ms = s.p10_ms * scale;
    r.stats.p90_ms = s.p90_ms * scale;
    r.stats.mean_ms = s.mean_ms * scale;
    r.stats.std_ms = s.std_ms * scale;
    r.stats.min_ms = s.min_ms * scale;
    r.origin = RowOrigin::predicted;
    r.predicted_by = predicted_by;
    r.predicted_error = model.cv_error(b.kind);
    rows.push_back(std::move(r));
  }
  rep.predicted = static_cast<int>(rows.size());
  nlohmann::json calibration = {{"source", rep.source},
                                {"budget", fs.budget.text},
                                {"blocks", rep.blocks_total},
                                {"measured", rep.measured},
                                {"predicted", rep.predicted},
                                {"selection",
                                 "k-center on log source ms, MACs, bytes, input, weighted by "
                                 "latency share in " +
                                     std::to_string(usage.size()) + " networks"},
                                {"transfer", rep.model}};
  table.insert_predicted(profile.name, rows, "few_shot:" + config.space, calibration);

  const auto& nets = job.work.overhead_networks;
  auto overhead = table.calibration(profile.name, "overhead");
  if (!nets.empty() && (!overhead || !chosen.empty() || job.options.force))
    rep.overhead_ms = measure_overhead(nets, table, *job.backend, profile.name, job.options);
  else if (overhead && overhead->contains("ms"))
    rep.overhead_ms = overhead->at("ms").get<double>();

  // The expected error over archs this space samples (the seed after the overhead networks').
  const std::vector<Network> error_nets =
      config.archs.empty()
          ? usage_networks(space, job.resolution, fs.error_networks, job.options.seed + 1)
          : usage;
  rep.expected = expected_network_error(error_nets, filled, rep.overhead_ms.value_or(0));
  calibration["expected_error"] = {{"networks", rep.expected.networks},
                                   {"median_sd", rep.expected.median_sd},
                                   {"p95_sd", rep.expected.p95_sd},
                                   {"within_10", rep.expected.within_10}};
  table.set_calibration(profile.name, "few_shot:" + config.space, calibration);
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace hwnas
