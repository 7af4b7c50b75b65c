// Profiler: fills a LatencyTable with the blocks of a search space, resumable (nn-Meter's
// kernel-level profiling, at hwnas's block granularity).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "evaluators/runtime/timing.h"
#include "profilers/backend.h"
#include "profilers/device_speed.h"
#include "profilers/latency_table.h"
#include "spaces/search_space.h"

namespace hwnas {

/// Default timing of table rows: enough repeats for a stable median, short enough that the
/// whole EfficientFormer table at 224 (every block the space can produce; `hwnas describe`
/// counts them) builds in about 5 minutes on 2 threads (bench/README.md, issue 15).
TimingConfig default_profile_timing();

struct ProfileOptions {
  std::string device_name = "host";  ///< rows go under this name ("" = the backend's own label)
  bool force = false;                ///< re-measure rows already present
  TimingConfig timing = default_profile_timing();
  /// Each batch of blocks is timed in this many windows, round-robin over the batch, and each
  /// row pools its windows' samples (merge_windows); `timing` is split among the windows. On a
  /// shared host a burst of interference then hits one window of a row, not the whole row.
  int windows = 3;
  /// Networks timed end to end to measure the device's per-inference overhead (0 = skip). The
  /// overhead is median(end-to-end - sum of block medians) over these networks; it is measured
  /// once per device (again with force) and stored as calibration "overhead".
  int overhead_networks = 5;
  std::uint64_t seed = 0;  ///< draws the overhead networks and each window's order of blocks
  /// Noise guard for shared machines: after the pass, rows (of these blocks) whose spread
  /// (p90 - p10) / median exceeds `max_spread` are measured again, up to `noisy_retries` times,
  /// keeping the measurement with the smaller spread (0 retries = off).
  int noisy_retries = 0;
  double max_spread = 0.5;

  /// Progress sink (nullptr = silent). A terminal gets one updating line with an ETA; anything
  /// else gets a line about every 10 % of the blocks.
  std::ostream* progress = nullptr;
  bool progress_is_terminal = false;
  /// Times the reference network (device_speed.h) once per batch of rows and stores it with
  /// the rows as calibration "reference:SPACE" (pooled with the windows of earlier sessions
  /// that measured rows of the space), for the drift validate reports. profile_space and
  /// profile_archs set SPACE; empty = not timed.
  std::string reference_space;
  /// The space's own reference (device_speed.h), timed end to end as validation times subnets
  /// (Backend::measure_networks with `timing` and `windows`) 8 times spread evenly over the
  /// batches of rows (several times per batch in a table of fewer batches), and stored as
  /// calibration SpaceReference::key, pooled with the windows of earlier sessions that timed the
  /// same arch. profile_space sets it; unset = not timed.
  std::optional<SpaceReference> space_reference;
};

struct ProfileReport {
  std::string device;      ///< the device name the rows were stored under
  std::string backend;     ///< Backend::name()
  int blocks_total = 0;    ///< unique blocks asked for
  int blocks_skipped = 0;  ///< already present (not re-measured)
  int blocks_measured = 0;
  int blocks_remeasured = 0;          ///< noisy rows measured again (ProfileOptions::noisy_retries)
  int windows_timed = 0;              ///< block windows timed, as the backend reports them
  int windows_retimed = 0;            ///< timed again because they were disturbed (TimingConfig)
  double seconds = 0;                 ///< wall time of the whole call
  std::optional<double> overhead_ms;  ///< stored per-inference overhead (new or existing)
  std::optional<double> reference_ms;        ///< stored reference time (ms) when this call timed it
  std::optional<double> space_reference_ms;  ///< the space's own reference (ms), idem
};

/// Gives `backend` the kernel choices stored with device `device`'s rows in `table`
/// (Backend::adopt_kernel_choices), so that what it times next follows them: every writer of
/// rows (profile_blocks, search --fill) and `validate` call it first. Throws hwnas::Error if
/// the stored choices are malformed.
void adopt_stored_kernel_choices(const LatencyTable& table, const std::string& device,
                                 Backend& backend);
/// Stores backend.kernel_choices() as device `device`'s calibration kKernelChoices, when it
/// has any and they changed; called before the rows they decided are inserted (a kill between
/// the two then leaves choices no row used, which is harmless).
void store_kernel_choices(LatencyTable& table, const std::string& device, const Backend& backend);

/// Measures `blocks` (deduplicated) on `backend` and stores them under the backend's profile
/// named options.device_name, `backend.preferred_batch()` rows per transaction; rows already in
/// the table are skipped unless options.force, so an interrupted call resumes where it stopped.
/// `overhead_nets` are the networks timed for the overhead (their blocks must be in `blocks` or
/// already in the table). Throws hwnas::Error if the table holds a different profile under that
/// name, or whatever the backend throws (the finished batches stay committed).
ProfileReport profile_blocks(const std::vector<BlockSpec>& blocks,
                             const std::vector<Network>& overhead_nets, LatencyTable& table,
                             Backend& backend, const ProfileOptions& options);

/// Times `overhead_nets` end to end on `backend` (and the time they spend outside their blocks,
/// where the backend reports it: Backend::inference_overheads) and stores device `device`'s
/// per-inference overhead as calibration "overhead" (ms, with the networks and the method);
/// returns it in ms. Every block of the networks needs a row, measured or predicted. Throws
/// hwnas::Error naming a block without a row, and what the backend throws.
double measure_overhead(const std::vector<Network>& overhead_nets, LatencyTable& table,
                        Backend& backend, const std::string& device, const ProfileOptions& options);

/// What profiling a space (or some archs) measures: its unique blocks and the networks timed
/// for the overhead.
struct ProfileWork {
  std::vector<BlockSpec> blocks;
  std::vector<Network> overhead_networks;
};

/// Every block `space` can produce at `resolution` (SearchSpace::enumerate_blocks) and
/// options.overhead_networks archs sampled at that resolution with options.seed.
ProfileWork space_profile_work(const SearchSpace& space, int resolution,
                               const ProfileOptions& options);
/// The blocks of `archs` (each decoded) and the first options.overhead_networks of them.
ProfileWork archs_profile_work(const SearchSpace& space, const std::vector<Arch>& archs,
                               const ProfileOptions& options);

/// Every unique block `space` can produce at `resolution` (SearchSpace::enumerate_blocks), then
/// profile_blocks with options.overhead_networks sampled archs at that resolution and both
/// references timed for `space` (L1 and the space's own at `resolution`).
ProfileReport profile_space(const SearchSpace& space, int resolution, LatencyTable& table,
                            Backend& backend, const ProfileOptions& options);

/// Only the blocks of `archs` (each validated), then profile_blocks with the first
/// options.overhead_networks of them as overhead networks and the reference timed for `space`.
ProfileReport profile_archs(const SearchSpace& space, const std::vector<Arch>& archs,
                            LatencyTable& table, Backend& backend, const ProfileOptions& options);

/// A uniformly sampled arch of `space` with its "resolution" gene (if the space has one) set to
/// `resolution`, repaired and validated. Throws hwnas::Error if the space rejects the resolution.
Arch sample_at_resolution(const SearchSpace& space, Rng& rng, int resolution);

/// SearchSpace::largest() with its "resolution" gene (if any) set to `resolution`, repaired and
/// validated. Throws hwnas::Error if the space rejects the resolution.
Arch largest_at_resolution(const SearchSpace& space, int resolution);

/// Reads archs from a JSON-lines file (one arch JSON per non-empty line, or an object with an
/// "arch" member). Throws hwnas::Error naming the file and the line.
std::vector<Arch> read_archs_jsonl(const SearchSpace& space, const std::string& path);

}  // namespace hwnas
