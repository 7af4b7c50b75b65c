// `hwnas profile` as a library call: the backend built by name, the block timing decided (by
// measurement for the local engine, block_timing_choice.h), and every block of a space (or of
// some archs) profiled into a table.
#pragma once

#include <optional>
#include <string>
#include <vector>

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
  /// auto (local engine: decided by timing whole networks, stored per space; other backends:
  /// cold-weights), hot or cold-weights.
  std::string block_timing = "auto";
  /// Force, timing, windows, overhead networks, seed, noise guard, progress. Its device_name is
  /// set from `device` above.
  ProfileOptions options;
};

/// Profiles what `config` names and returns the report. An unreachable agent fails before the
/// table file is created. Throws hwnas::Error on an unknown space, backend or block timing, bad
/// options (e.g. overhead networks < 0), a device whose stored profile differs, and what
/// profiling throws (disk full, interrupted).
ProfileReport run_profile(const ProfileRunConfig& config);

}  // namespace hwnas
