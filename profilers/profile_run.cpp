#include "profilers/profile_run.h"

#include <memory>

#include "core/error.h"
#include "profilers/backend_registry.h"
#include "profilers/block_timing_choice.h"
#include "profilers/device_profile.h"
#include "spaces/registry.h"

namespace hwnas {

BackendSpec profile_backend_spec(const ProfileRunConfig& c, BlockTiming block_timing) {
  BackendSpec spec;
  spec.name = c.agent.empty() ? c.backend : "agent";
  spec.url = c.agent;
  spec.token = c.token;
  spec.threads = c.threads;
  spec.seed = c.options.seed;
  spec.block_timing = block_timing;
  return spec;
}

ProfileReport run_profile(const ProfileRunConfig& c) {
  const SearchSpace& space = get_space(c.space);
  if (c.options.overhead_networks < 0) throw Error("--overhead-networks must be >= 0");
  ProfileOptions opt = c.options;
  if (c.device)
    opt.device_name = *c.device;
  else if (!c.agent.empty())
    opt.device_name.clear();  // rows go under the agent's own name
  else
    opt.device_name = c.backend == "local" ? "host" : c.backend;  // "fake", "onnxruntime"
  const bool local = c.agent.empty() && c.backend == "local";
  const int resolution = c.resolution ? c.resolution : default_resolution(space);
  std::optional<LatencyTable> table;
  BlockTiming mode = BlockTiming::cold_weights;
  if (c.block_timing != "auto") {
    mode = block_timing_from_name(c.block_timing);
  } else if (local) {
    table.emplace(c.db, LatencyTable::Mode::read_write);
    std::vector<Network> probe;
    if (c.archs.empty()) {
      probe = block_timing_probe_networks(space, resolution, 4, opt.seed);
    } else {
      for (std::size_t i = 0; i < c.archs.size() && i < 5; ++i)
        probe.push_back(space.decode(c.archs[i]));
    }
    mode = resolve_local_block_timing(*table, host_device_profile(opt.device_name, c.threads, 1),
                                      space.name(), probe.front().input.h, probe, opt.seed,
                                      opt.timing, opt.windows, opt.force, opt.progress);
  }
  const BackendSpec spec = profile_backend_spec(c, mode);
  std::unique_ptr<Backend> backend = make_backend(spec);
  if (c.wrap_backend) backend = c.wrap_backend(std::move(backend), spec);
  backend->device(opt.device_name);  // an unreachable agent fails here, before the table exists
  if (!table) table.emplace(c.db, LatencyTable::Mode::read_write);
  return c.archs.empty() ? profile_space(space, resolution, *table, *backend, opt)
                         : profile_archs(space, c.archs, *table, *backend, opt);
}

}  // namespace hwnas
