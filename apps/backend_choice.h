// The profiling backend a command line names (--agent, --backend, --threads), shared by
// `hwnas profile` and `hwnas validate`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "profilers/backend.h"
#include "profilers/block_timing.h"

namespace hwnas::apps {

struct BackendChoice {
  std::string agent;  ///< URL of an `hwnas agent`; non-empty wins over `kind`
  std::string token;  ///< bearer token for the agent
  bool fake = false;  ///< the deterministic fake backend (tests, CI)
  int threads = 2;
  int batch = 1;
  std::uint64_t seed = 0;
  BlockTiming block_timing = BlockTiming::cold_weights;
};

/// The agent client, the fake backend, or the engine in this process. Throws hwnas::Error on
/// invalid settings (threads or batch < 1, a malformed agent URL).
std::unique_ptr<Backend> make_backend(const BackendChoice& choice);

/// The backend that measures more rows for a device already in a table, from its stored
/// profile: the fake backend with the profile's seed and threads for a fake device ("hwnas-fake"
/// runtime), the agent at `agent` when given, else the local engine with the profile's threads
/// and batch. Throws hwnas::Error if a fake profile's cpu_model does not hold its seed.
BackendChoice backend_for_device(const DeviceProfile& profile, const std::string& agent,
                                 const std::string& token);

}  // namespace hwnas::apps
