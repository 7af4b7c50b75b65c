// Latency backends by name, the one place that builds them (nn-Meter registers its backends the
// same way): "local" (the engine in this process), "fake" (a deterministic formula, for tests
// and CI), "agent" (an `hwnas agent` over HTTP). A new runtime registers a factory under its
// own name and every command that takes a backend can use it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "profilers/backend.h"
#include "profilers/block_timing.h"
#include "profilers/device_profile.h"

namespace hwnas {

/// What a backend is built from. Fields a backend does not use are ignored.
struct BackendSpec {
  std::string name = "local";  ///< a registered backend (backend_names())
  std::string url;             ///< agent: http://HOST:PORT of `hwnas agent`
  std::string token;           ///< agent: bearer token (never stored in a table or run)
  int threads = 2;             ///< local, fake: engine threads
  int batch = 1;               ///< local: batch size
  std::uint64_t seed = 0;      ///< local: input seed; fake: the formula's seed (its identity)
  BlockTiming block_timing = BlockTiming::cold_weights;  ///< local, onnxruntime: how rows are timed
  std::string precision = "fp32";                        ///< local: fp32 or int8
};

using BackendFactory = std::function<std::unique_ptr<Backend>(const BackendSpec&)>;

/// Adds a backend under `name` (a runtime beyond the built-in three; tests register scripted
/// ones). Thread-safe. Throws hwnas::Error if the name is empty or already registered.
void register_backend(const std::string& name, BackendFactory factory);

/// The registered names, sorted: agent, fake, local and any added by register_backend.
std::vector<std::string> backend_names();

/// Builds the backend `spec.name`. Throws hwnas::Error on an unknown name (listing the known
/// ones) and whatever the backend's constructor throws (threads or batch < 1, a malformed URL).
std::unique_ptr<Backend> make_backend(const BackendSpec& spec);

/// The backend that measures more rows for a device already in a table, from its stored
/// profile: "fake" with the profile's seed and threads for a fake device ("hwnas-fake" runtime),
/// "onnxruntime" with hot block timing (what every ORT table was timed with before its choice
/// was stored) for an "onnxruntime ..." runtime,
/// "agent" at `agent_url` when it is not empty, else "local" with the profile's threads, batch
/// and precision. Throws hwnas::Error if a fake profile's cpu_model does not hold its seed.
BackendSpec backend_for_device(const DeviceProfile& profile, const std::string& agent_url,
                               const std::string& token);

}  // namespace hwnas
