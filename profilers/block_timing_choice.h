// Which block timing (hot or cold-weights) makes a latency table's sums match whole networks on
// this device: decided by timing, never by a cache size the platform reports. A VM can report any
// last-level cache (a 2-vCPU Xeon guest says 480 MiB in sysfs and in glibc); trusting it made
// ElasticViT's default table 27 % low (issue 15).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluators/runtime/timing.h"
#include "profilers/backend.h"
#include "profilers/block_timing.h"
#include "profilers/latency_table.h"
#include "spaces/search_space.h"

namespace hwnas {

/// The measurements behind a choice. A ratio is (sum of the network's block medians in that
/// variant + its per-inference overhead) / its end-to-end median; 1 is a perfect table.
struct BlockTimingChoice {
  BlockTiming chosen = BlockTiming::cold_weights;
  std::vector<double> e2e_ms;             ///< per probe network, end-to-end median (ms)
  std::vector<TimingStats> e2e_stats;     ///< per probe network, its windows merged
  std::vector<double> hot_ratio;          ///< per probe network
  std::vector<double> cold_ratio;         ///< per probe network
  double hot_error = 0;                   ///< block_sum_error(hot_ratio)
  double cold_error = 0;                  ///< block_sum_error(cold_ratio)
  double e2e_noise = 0;                   ///< e2e_window_noise(e2e_stats)
  std::int64_t reported_llc_bytes = 0;    ///< last_level_cache_bytes(), recorded, not used
  double seconds = 0;                     ///< wall time of the probe
  std::string hot_backend, cold_backend;  ///< Backend::name() of the two variants
  /// Every block of the probe networks, with its merged windows in each variant: the chosen
  /// variant's are table rows like any other (not in to_json).
  std::vector<BlockSpec> blocks;
  std::vector<TimingStats> hot_stats, cold_stats;

  /// {"mode","hot_error","cold_error","hot_ratio":[..],"cold_ratio":[..],"e2e_ms":[..],
  ///  "e2e_noise","within_noise","reported_llc_bytes","seconds","hot_backend","cold_backend",
  ///  "method"}: stored as the table's "block_timing" calibration.
  nlohmann::json to_json() const;

  /// True when the two variants' errors differ by less than e2e_noise: the host moved the
  /// networks' end-to-end windows further than the choice's margin, so another probe may well
  /// choose the other variant. On the family-25 EPYC, 14 of 111 probes kept the variant that
  /// validation shows wrong there, every one of them within the noise; none of the 39 outside it
  /// (bench/README.md, "The block-timing probe in noise").
  bool within_noise() const;
};

/// How far a shared host moved the probe networks' end-to-end windows: the median over networks
/// of ln(p75 / p25) of its window medians (nearest rank), on the scale of block_sum_error. 0 for
/// a network timed in fewer than two windows, and for no network.
double e2e_window_noise(const std::vector<TimingStats>& e2e);

/// How far a row variant's sums are from whole networks: the root mean square over the probe
/// networks of ln(ratio), about the RMSPE a table of those rows would show on them. A scattered
/// variant costs more than one off by a steady few per cent, which the median |ln ratio| used
/// before 2026-12-05 did not see: on turbovit-fmnist it kept cold-weights rows with ratios
/// 0.96-1.20 (median error 0.041) over hot ones at 0.92-0.96 (0.058), and the table validated at
/// 16.6 % RMSPE against 4.7 % for hot rows (bench/README.md, "The quiet-host check"). Infinite
/// when a ratio is not positive; throws hwnas::Error for no ratio.
double block_sum_error(const std::vector<double>& ratios);

/// Times every block of `nets` on `hot` and on `cold` (the same device with the two block
/// timings), in `windows` windows per chunk of blocks that alternate the two variants and then
/// time each network end to end on `cold` (its networks are the same engine), so that a slow
/// stretch of a shared host hits all three alike. Keeps the variant with the smaller
/// block_sum_error; a tie keeps cold-weights, the variant that holds for networks larger than the
/// cache. Throws hwnas::Error if `nets` is empty or whatever the backends throw.
BlockTimingChoice choose_block_timing(const std::vector<Network>& nets, Backend& hot, Backend& cold,
                                      const TimingConfig& timing, int windows);

/// The probe networks of `space` at `resolution`: the largest arch (the most weight, where a
/// wrong choice costs most) and `sampled` archs drawn with `seed` (sample_at_resolution).
/// Throws hwnas::Error if the space rejects the resolution.
std::vector<Network> block_timing_probe_networks(const SearchSpace& space, int resolution,
                                                 int sampled, std::uint64_t seed);

/// What a validation says of a table's probed block timing (second_opinion_on_block_timing).
struct BlockTimingSecondOpinion {
  BlockTiming chosen = BlockTiming::cold_weights;  ///< the stored choice
  bool within_noise = false;                       ///< the probe's own flag
  /// The validation's median of predicted × speed factor / measured (the rows' level at the
  /// build's speed), and of predicted / measured (unscaled).
  double measured_ratio = 0, plain_ratio = 0;
  /// The other variant's ratio as the probe saw the two: measured_ratio times the median of
  /// the other variant's probe ratios over the chosen one's.
  double other_ratio = 0;
  /// The variant to profile into a new table with, when the other one would have been closer
  /// (below); else nullopt.
  std::optional<BlockTiming> suggested;
  /// {"mode","within_noise","measured_ratio","plain_ratio","other_mode","other_ratio",
  /// "suggested" (a mode or null)}.
  nlohmann::json to_json() const;
};

/// Checks a probed block-timing choice (`record`, the table's "block_timing:SPACE" calibration)
/// against a validation's median ratio of predicted to measured times (`measured_ratio`, the
/// predictions scaled by the space reference's speed factor where the table has one;
/// `plain_ratio`, unscaled). The rows
/// of the two variants keep their ratio to each other from the probe to the validation, so the
/// other variant would have given about measured_ratio * (its median probe ratio / the chosen
/// one's). It is suggested when the chosen rows are off by more than 10 % and the other's would
/// be within 10 % and closer to 1 in |ln| by more than ln(1.1), and the unscaled ratio is off
/// by more than 10 % the same way: a probe decided within the host's noise can keep the wrong
/// rows, and a reference timed in a slow stretch of the build scales every factor (at 22:45 a
/// right hot table measured 0.62 scaled, 0.98 unscaled). On the family-25 EPYC an
/// efficientformer-fmnist probe kept cold-weights rows (ratios hot 0.866, cold-weights 1.097);
/// validated, they ran 1.347 times the measurements, and hot rows would have run about 1.06. Over
/// 56 watcher checks it named the two wrong choices and none of the others (bench/README.md, "A
/// second opinion on the block timing"). nullopt for a record that no probe made (set by
/// --block-timing) or without both ratio lists, and for a ratio that is not positive; a
/// within_noise that is not a boolean reads as false. Never throws on a damaged record.
std::optional<BlockTimingSecondOpinion> second_opinion_on_block_timing(const nlohmann::json& record,
                                                                       double measured_ratio,
                                                                       double plain_ratio);

/// The block timing stored for `space`'s rows of device `device` (calibration
/// "block_timing:SPACE"), or nullopt when none was chosen. Throws hwnas::Error naming the table
/// and the fix when the stored value cannot be read.
std::optional<BlockTiming> stored_block_timing(const LatencyTable& table, const std::string& device,
                                               const std::string& space);

/// Stores `mode`, given by the user (`--block-timing hot|cold-weights`), as the block timing of
/// `space`'s rows of `device` in `table` (calibration "block_timing:SPACE", "method": "set by
/// --block-timing"), so that a later `--block-timing auto` run that resumes or fills the table
/// keeps it instead of probing and mixing the two variants. Throws hwnas::Error naming the
/// table, the stored timing and the fix when the table's rows are timed the other way and not
/// `force` (which re-times them all); same errors as stored_block_timing.
void record_block_timing(LatencyTable& table, const DeviceProfile& device, const std::string& space,
                         BlockTiming mode, bool force);

/// Makes a backend of the device being profiled that times its block rows in the given way.
using BlockTimingBackendFactory = std::function<std::unique_ptr<Backend>(BlockTiming)>;

/// The block timing of `space`'s rows in `table` for device `device_name` of the backends that
/// `make` builds (the hot one's device() is the profile recorded): the stored one
/// (stored_block_timing) unless `force`, so that a resumed or filled table keeps one timing for
/// all the space's rows; else choose_block_timing on `probe_nets` (drawn at `resolution`) with
/// the table's own `timing` and `windows` (a probe timed more briefly than the rows misjudged
/// them by 25-40 %), and the choice is stored with the chosen variant's rows, which the profile
/// then skips: the probe costs the other variant's rows and the networks' end-to-end runs. `log`
/// (may be null) gets one line: the ratios and the choice, or that the stored one is kept; a
/// choice within the noise (BlockTimingChoice::within_noise) gets a second line with the fix. A
/// device that cannot be built (int8 without AVX2, VNNI or AMX, no ONNX Runtime) is refused before
/// the table records it. Same errors as `make`, stored_block_timing and choose_block_timing.
BlockTiming resolve_block_timing(LatencyTable& table, const std::string& device_name,
                                 const BlockTimingBackendFactory& make, const std::string& space,
                                 int resolution, const std::vector<Network>& probe_nets,
                                 const TimingConfig& timing, int windows, bool force,
                                 std::ostream* log);

/// resolve_block_timing for the local engine's device `profile` (threads, batch and precision
/// from it), its backends drawing random weights from `seed`.
BlockTiming resolve_local_block_timing(LatencyTable& table, const DeviceProfile& profile,
                                       const std::string& space, int resolution,
                                       const std::vector<Network>& probe_nets, std::uint64_t seed,
                                       const TimingConfig& timing, int windows, bool force,
                                       std::ostream* log);

}  // namespace hwnas
