// `hwnas profile` as a library call: the backend built by name, the block timing decided (by
// measurement for the local engine, block_timing_choice.h), and every block of a space (or of
// some archs) profiled into a table.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "profilers/backend_registry.h"
#include "profilers/profiler.h"

namespace hwnas {

struct ProfileRunConfig {
  std::string space;
  int resolution = 0;       ///< 0: default_resolution(space); ignored with `archs`
  std::vector<Arch> archs;  ///< only these archs' blocks (empty: every block of the space)
  std::string db = "hwnas.db";
  /// The device the rows go under; unset: "host" for the local engine, "fake" for the fake
  /// backend, the agent's own name with an agent.
  std::optional<std::string> device;
  std::string backend = "local";  ///< a registered backend (backend_registry.h); agent wins
  std::string agent;              ///< http://HOST:PORT of `hwnas agent`
  std::string token;              ///< its bearer token
  int threads = 2;                ///< engine threads (local, fake)
  int batch = 1;                  ///< images per inference (local); part of the device profile
  /// fp32, or an int8 precision: "int8", "int8-dwfaster", "int8-dwfp32" (local engine only;
  /// evaluators/quant/engine_precision.h; part of the device profile; default device "host-" +
  /// the precision)
  std::string precision = "fp32";
  /// auto (local engine and onnxruntime: decided by timing whole networks, stored per space and
  /// device; the agent: cold-weights), hot or cold-weights.
  std::string block_timing = "auto";
  /// Force, timing, windows, overhead networks, seed, noise guard, progress. Its device_name is
  /// set from `device` above.
  ProfileOptions options;
  /// When set, the backend the rows are measured with is wrap_backend(the backend above, the
  /// spec it was made from, block timing resolved): an MPI job hands rank 0's measurements to
  /// its worker ranks here (distributed/).
  std::function<std::unique_ptr<Backend>(std::unique_ptr<Backend>, const BackendSpec&)>
      wrap_backend;
};

/// The backend `config` names (local, fake or agent, its threads and seed) with `block_timing`.
BackendSpec profile_backend_spec(const ProfileRunConfig& config, BlockTiming block_timing);

/// What run_profile measures, ready to measure: the table (open read-write), the backend (block
/// timing resolved, wrapped when the config says so), the options with the device name and the
/// reference space set, and the work (blocks and overhead networks).
struct ProfileJob {
  std::unique_ptr<LatencyTable> table;
  std::unique_ptr<Backend> backend;
  ProfileOptions options;
  ProfileWork work;
  int resolution = 0;  ///< of the space's blocks (the archs' own with `archs`)
};

/// Prepares what `config` names, without measuring a row (the local engine's block-timing
/// choice may time its probe networks). Same errors as run_profile before measuring.
ProfileJob prepare_profile(const ProfileRunConfig& config);

/// Profiles what `config` names and returns the report. An unreachable agent fails before the
/// table file is created. Throws hwnas::Error on an unknown space, backend or block timing, bad
/// options (e.g. overhead networks < 0), a device whose stored profile differs, and what
/// profiling throws (disk full, interrupted).
ProfileReport run_profile(const ProfileRunConfig& config);

}  // namespace hwnas
