#include "profilers/block_timing_choice.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "profilers/local_backend.h"
#include "profilers/profiler.h"

namespace hwnas {
namespace {

double median_of(const std::vector<double>& v) { return summarize_ms(v).median_ms; }

}  // namespace

nlohmann::json BlockTimingChoice::to_json() const {
  return {{"mode", block_timing_name(chosen)},
          {"hot_error", hot_error},
          {"cold_error", cold_error},
          {"e2e_noise", e2e_noise},
          {"within_noise", within_noise()},
          {"hot_ratio", hot_ratio},
          {"cold_ratio", cold_ratio},
          {"e2e_ms", e2e_ms},
          {"reported_llc_bytes", reported_llc_bytes},
          {"seconds", seconds},
          {"hot_backend", hot_backend},
          {"cold_backend", cold_backend},
          {"method",
           "per probe network: (sum of block medians + per-inference overhead) / "
           "end-to-end median, for hot and cold-weights rows; the variant with the "
           "smaller root mean square of ln ratio is kept"}};
}

bool BlockTimingChoice::within_noise() const {
  return std::abs(hot_error - cold_error) < e2e_noise;
}

double e2e_window_noise(const std::vector<TimingStats>& e2e) {
  std::vector<double> spreads;
  for (const auto& s : e2e) {
    std::vector<double> w = s.window_medians_ms;
    if (w.size() < 2) {
      spreads.push_back(0.0);
      continue;
    }
    std::sort(w.begin(), w.end());
    const auto at = [&](double q) {
      return w[static_cast<std::size_t>(std::lround(q * static_cast<double>(w.size() - 1)))];
    };
    spreads.push_back(at(0.25) > 0 ? std::log(at(0.75) / at(0.25)) : 0.0);
  }
  return spreads.empty() ? 0.0 : summarize_ms(spreads).median_ms;
}

double block_sum_error(const std::vector<double>& ratios) {
  if (ratios.empty()) throw Error("block timing probe: no network ratio to judge");
  double sq = 0;
  for (double r : ratios) {
    if (!(r > 0)) return std::numeric_limits<double>::infinity();  // a zero sum matches nothing
    sq += std::log(r) * std::log(r);
  }
  return std::sqrt(sq / static_cast<double>(ratios.size()));
}

BlockTimingChoice choose_block_timing(const std::vector<Network>& nets, Backend& hot, Backend& cold,
                                      const TimingConfig& timing, int windows) {
  if (nets.empty()) throw Error("block timing probe: no network to compare with");
  const auto t0 = std::chrono::steady_clock::now();
  windows = std::max(1, windows);
  std::vector<BlockSpec> blocks;
  {
    std::unordered_set<BlockSpec, BlockSpecHash> seen;
    for (const auto& n : nets)
      for (const auto& b : n.blocks)
        if (seen.insert(b).second) blocks.push_back(b);
  }
  // Chunks as the profiler's batches (a cold-weights chunk keeps its rotated copies built across
  // windows); within a chunk, the windows alternate hot and cold so drift hits both alike.
  const TimingConfig per_window = window_config(timing, windows);
  const std::size_t chunk = static_cast<std::size_t>(std::max(1, cold.preferred_batch()));
  BlockTimingChoice out;
  out.hot_backend = hot.name();
  out.cold_backend = cold.name();
  std::unordered_map<std::string, double> hot_ms, cold_ms;  // block key -> merged median
  // The networks are timed once per chunk window too, so that their end-to-end windows span the
  // same stretch of time as the blocks' (a host that slows down halfway moves both alike).
  std::vector<std::vector<TimingStats>> e2e_windows(nets.size());
  for (std::size_t i = 0; i < blocks.size(); i += chunk) {
    const std::vector<BlockSpec> part(
        blocks.begin() + static_cast<std::ptrdiff_t>(i),
        blocks.begin() + static_cast<std::ptrdiff_t>(std::min(blocks.size(), i + chunk)));
    std::vector<std::vector<TimingStats>> h(part.size()), c(part.size());
    for (int w = 0; w < windows; ++w) {
      const auto hs = hot.measure_blocks(part, per_window);
      const auto cs = cold.measure_blocks(part, per_window);
      if (hs.size() != part.size() || cs.size() != part.size())
        throw Error("block timing probe: a backend returned the wrong number of results");
      for (std::size_t k = 0; k < part.size(); ++k) h[k].push_back(hs[k]), c[k].push_back(cs[k]);
      const auto es = cold.measure_networks(nets, per_window, 1);
      for (std::size_t n = 0; n < nets.size(); ++n) e2e_windows[n].push_back(es.at(n));
    }
    for (std::size_t k = 0; k < part.size(); ++k) {
      out.blocks.push_back(part[k]);
      out.hot_stats.push_back(merge_windows(h[k]));
      out.cold_stats.push_back(merge_windows(c[k]));
      hot_ms[part[k].key()] = out.hot_stats.back().median_ms;
      cold_ms[part[k].key()] = out.cold_stats.back().median_ms;
    }
  }
  std::vector<TimingStats> e2e;
  for (const auto& w : e2e_windows) e2e.push_back(merge_windows(w));
  out.e2e_stats = e2e;
  out.e2e_noise = e2e_window_noise(e2e);
  const auto overheads = cold.inference_overheads(nets, timing, windows);

  out.reported_llc_bytes = last_level_cache_bytes();
  for (std::size_t n = 0; n < nets.size(); ++n) {
    const double extra = overheads ? overheads->at(n) : 0.0;
    double hs = extra, cs = extra;
    for (const auto& b : nets[n].blocks) hs += hot_ms.at(b.key()), cs += cold_ms.at(b.key());
    const double m = e2e.at(n).median_ms;
    if (!(m > 0)) throw Error("block timing probe: a network measured 0 ms end to end");
    out.e2e_ms.push_back(m);
    out.hot_ratio.push_back(hs / m);
    out.cold_ratio.push_back(cs / m);
  }
  out.hot_error = block_sum_error(out.hot_ratio);
  out.cold_error = block_sum_error(out.cold_ratio);
  out.chosen = out.hot_error < out.cold_error ? BlockTiming::hot : BlockTiming::cold_weights;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

std::vector<Network> block_timing_probe_networks(const SearchSpace& space, int resolution,
                                                 int sampled, std::uint64_t seed) {
  std::vector<Network> nets{space.decode(largest_at_resolution(space, resolution))};
  Rng rng(seed);
  for (int i = 0; i < sampled; ++i)
    nets.push_back(space.decode(sample_at_resolution(space, rng, resolution)));
  return nets;
}

nlohmann::json BlockTimingSecondOpinion::to_json() const {
  const BlockTiming other =
      chosen == BlockTiming::hot ? BlockTiming::cold_weights : BlockTiming::hot;
  return {{"mode", block_timing_name(chosen)},
          {"within_noise", within_noise},
          {"measured_ratio", measured_ratio},
          {"plain_ratio", plain_ratio},
          {"other_mode", block_timing_name(other)},
          {"other_ratio", other_ratio},
          {"suggested", suggested ? nlohmann::json(block_timing_name(*suggested)) : nullptr}};
}

std::optional<BlockTimingSecondOpinion> second_opinion_on_block_timing(const nlohmann::json& record,
                                                                       double measured_ratio,
                                                                       double plain_ratio) {
  if (!(measured_ratio > 0) || !(plain_ratio > 0) || !record.is_object() ||
      !record.contains("mode") || !record["mode"].is_string())
    return std::nullopt;
  const auto ratios = [&](const char* name) -> std::optional<double> {
    if (!record.contains(name) || !record[name].is_array() || record[name].empty())
      return std::nullopt;
    std::vector<double> v;
    for (const auto& x : record[name]) {
      if (!x.is_number() || !(x.get<double>() > 0)) return std::nullopt;
      v.push_back(x.get<double>());
    }
    return median_of(v);
  };
  const auto hot = ratios("hot_ratio"), cold = ratios("cold_ratio");
  const std::string mode = record["mode"].get<std::string>();
  if (!hot || !cold || (mode != "hot" && mode != "cold-weights")) return std::nullopt;
  BlockTimingSecondOpinion o;
  o.chosen = block_timing_from_name(mode);
  // A damaged record (a non-boolean flag) reads as "not within the noise" rather than throwing:
  // the second opinion only adds a line to validate's report.
  o.within_noise = record.contains("within_noise") && record["within_noise"].is_boolean() &&
                   record["within_noise"].get<bool>();
  o.measured_ratio = measured_ratio;
  o.plain_ratio = plain_ratio;
  const bool hot_chosen = o.chosen == BlockTiming::hot;
  o.other_ratio = measured_ratio * (hot_chosen ? *cold / *hot : *hot / *cold);
  const double margin = std::log(1.1);
  const double off = std::abs(std::log(measured_ratio)),
               other_off = std::abs(std::log(o.other_ratio));
  const bool same_way = (plain_ratio > 1) == (measured_ratio > 1);
  if (off > margin && other_off < margin && other_off + margin < off &&
      std::abs(std::log(plain_ratio)) > margin && same_way)
    o.suggested = hot_chosen ? BlockTiming::cold_weights : BlockTiming::hot;
  return o;
}

std::optional<BlockTiming> stored_block_timing(const LatencyTable& table, const std::string& device,
                                               const std::string& space) {
  const auto stored = table.calibration(device, "block_timing:" + space);
  if (!stored) return std::nullopt;
  const nlohmann::json& j = *stored;
  if (j.is_object() && j.contains("mode") && j["mode"].is_string()) {
    const std::string m = j["mode"].get<std::string>();
    if (m == "hot" || m == "cold-weights") return block_timing_from_name(m);
  }
  throw Error("latency table " + table.path() + ": calibration 'block_timing:" + space +
              "' of device '" + device + "' is damaged; re-profile with `hwnas profile --space " +
              space + " --force`");
}

void record_block_timing(LatencyTable& table, const DeviceProfile& device, const std::string& space,
                         BlockTiming mode, bool force) {
  table.ensure_device(device);
  const auto stored = stored_block_timing(table, device.name, space);
  if (stored && *stored != mode && !force)
    throw Error("latency table " + table.path() + ": the " + space + " rows of device '" +
                device.name + "' are timed " + block_timing_name(*stored) +
                "; profile with `--block-timing " + block_timing_name(*stored) +
                "`, or add --force to time them all " + block_timing_name(mode));
  if (stored == mode) return;  // keeps the record of the probe that chose it
  table.set_calibration(device.name, "block_timing:" + space,
                        {{"mode", block_timing_name(mode)}, {"method", "set by --block-timing"}});
}

BlockTiming resolve_block_timing(LatencyTable& table, const std::string& device_name,
                                 const BlockTimingBackendFactory& make, const std::string& space,
                                 int resolution, const std::vector<Network>& probe_nets,
                                 const TimingConfig& timing, int windows, bool force,
                                 std::ostream* log) {
  // A device this host cannot time (int8 without AVX2, VNNI or AMX, no runtime) is refused before
  // the table records it.
  const std::unique_ptr<Backend> hot = make(BlockTiming::hot);
  const DeviceProfile profile = hot->device(device_name);
  table.ensure_device(profile);
  if (!force) {
    if (const auto mode = stored_block_timing(table, profile.name, space)) {
      if (log)
        *log << "profile: " << space << ": the table's rows are timed " << block_timing_name(*mode)
             << " (chosen when they were first timed; --force chooses again)\n";
      return *mode;
    }
  }
  const std::unique_ptr<Backend> cold = make(BlockTiming::cold_weights);
  const BlockTimingChoice c = choose_block_timing(probe_nets, *hot, *cold, timing, windows);
  nlohmann::json record = c.to_json();
  record["resolution"] = resolution;
  // The choice first: rows without it would be taken for rows of an older table.
  table.set_calibration(profile.name, "block_timing:" + space, record);
  const auto& stats = c.chosen == BlockTiming::hot ? c.hot_stats : c.cold_stats;
  std::vector<LatencyRow> rows;
  for (std::size_t k = 0; k < c.blocks.size(); ++k)
    rows.push_back({c.blocks[k].key(), stats[k], ""});
  table.insert(
      profile.name,
      table.begin_run(profile.name, c.chosen == BlockTiming::hot ? c.hot_backend : c.cold_backend,
                      timing),
      rows);
  if (log) {
    char line[320];
    std::snprintf(line, sizeof line,
                  "profile: %s at %d: block sums / end to end over %zu probe networks: hot %.3f, "
                  "cold-weights %.3f (medians) -> %s rows, %zu of them kept (%.1f s)\n",
                  space.c_str(), resolution, probe_nets.size(), median_of(c.hot_ratio),
                  median_of(c.cold_ratio), block_timing_name(c.chosen).c_str(), rows.size(),
                  c.seconds);
    *log << line;
    if (c.within_noise()) {
      std::snprintf(line, sizeof line,
                    "profile: %s: that choice is within this host's noise (errors hot %.3f, "
                    "cold-weights %.3f; end-to-end windows spread %.3f): check the table with "
                    "`hwnas validate`, or profile into a new table with `--block-timing hot` or "
                    "`--block-timing cold-weights`\n",
                    space.c_str(), c.hot_error, c.cold_error, c.e2e_noise);
      *log << line;
    }
  }
  return c.chosen;
}

BlockTiming resolve_local_block_timing(LatencyTable& table, const DeviceProfile& profile,
                                       const std::string& space, int resolution,
                                       const std::vector<Network>& probe_nets, std::uint64_t seed,
                                       const TimingConfig& timing, int windows, bool force,
                                       std::ostream* log) {
  return resolve_block_timing(
      table, profile.name,
      [&](BlockTiming mode) {
        return std::make_unique<LocalBackend>(profile.threads, profile.batch, seed, mode,
                                              profile.precision);
      },
      space, resolution, probe_nets, timing, windows, force, log);
}

}  // namespace hwnas
