#include "profilers/profile_run.h"

#include <memory>

#include "core/error.h"
#include "profilers/backend_registry.h"
#include "profilers/block_timing_choice.h"
#include "profilers/device_profile.h"
#include "profilers/host_table.h"
#include "profilers/local_backend.h"
#include "spaces/registry.h"

namespace hwnas {

BackendSpec profile_backend_spec(const ProfileRunConfig& c, BlockTiming block_timing) {
  BackendSpec spec;
  spec.name = c.agent.empty() ? c.backend : "agent";
  spec.url = c.agent;
  spec.token = c.token;
  spec.threads = c.threads;
  spec.batch = c.batch;
  spec.seed = c.options.seed;
  spec.block_timing = block_timing;
  spec.precision = c.precision;
  return spec;
}

ProfileJob prepare_profile(const ProfileRunConfig& c) {
  const SearchSpace& space = get_space(c.space);
  if (c.options.overhead_networks < 0) throw Error("--overhead-networks must be >= 0");
  ProfileJob job;
  ProfileOptions& opt = job.options;
  opt = c.options;
  if (c.device)
    opt.device_name = *c.device;
  else if (!c.agent.empty())
    opt.device_name.clear();  // rows go under the agent's own name
  else
    opt.device_name =
        c.backend == "local" ? host_device_name(c.precision) : c.backend;  // "fake", "onnxruntime"
  opt.reference_space = space.name();
  const bool local = c.agent.empty() && c.backend == "local";
  if (c.batch != 1 && !local)
    throw Error("--batch " + std::to_string(c.batch) +
                " applies to the local engine only; drop it for --backend " +
                (c.agent.empty() ? c.backend : "agent"));
  if (c.precision != "fp32" && !local)
    throw Error("--precision " + c.precision + " applies to the local engine only; drop it for " +
                "--backend " + (c.agent.empty() ? c.backend : "agent"));
  if (local) LocalBackend::require_precision(c.precision);  // before the table file is created
  job.resolution = c.resolution ? c.resolution : default_resolution(space);
  // The backends whose block rows can be timed hot or cold-weights; an agent's rows are timed
  // as its own engine's default (cold-weights) and the fake device has no caches.
  const bool chooses_timing =
      c.agent.empty() && (c.backend == "local" || c.backend == "onnxruntime");
  BlockTiming mode = BlockTiming::cold_weights;
  if (c.block_timing != "auto") {
    mode = block_timing_from_name(c.block_timing);
  } else if (chooses_timing) {
    job.table = std::make_unique<LatencyTable>(c.db, LatencyTable::Mode::read_write);
    std::vector<Network> probe;
    if (c.archs.empty()) {
      probe = block_timing_probe_networks(space, job.resolution, 4, opt.seed);
    } else {
      for (std::size_t i = 0; i < c.archs.size() && i < 5; ++i)
        probe.push_back(space.decode(c.archs[i]));
    }
    // The probe runs on this process's backends, unwrapped, as before any row is handed out.
    const auto make = [&](BlockTiming t) { return make_backend(profile_backend_spec(c, t)); };
    mode =
        resolve_block_timing(*job.table, opt.device_name, make, space.name(), probe.front().input.h,
                             probe, opt.timing, opt.windows, opt.force, opt.progress);
  }
  const BackendSpec spec = profile_backend_spec(c, mode);
  job.backend = make_backend(spec);
  if (c.wrap_backend) job.backend = c.wrap_backend(std::move(job.backend), spec);
  // An unreachable agent fails here, before the table.
  const DeviceProfile device = job.backend->device(opt.device_name);
  if (!job.table) job.table = std::make_unique<LatencyTable>(c.db, LatencyTable::Mode::read_write);
  if (c.block_timing != "auto" && chooses_timing)
    record_block_timing(*job.table, device, space.name(), mode, opt.force);
  job.work = c.archs.empty() ? space_profile_work(space, job.resolution, opt)
                             : archs_profile_work(space, c.archs, opt);
  // The space's own reference belongs to a table of the whole space at one resolution.
  if (c.archs.empty()) job.options.space_reference = space_reference(space, job.resolution);
  return job;
}

ProfileReport run_profile(const ProfileRunConfig& c) {
  ProfileJob job = prepare_profile(c);
  return profile_blocks(job.work.blocks, job.work.overhead_networks, *job.table, *job.backend,
                        job.options);
}

}  // namespace hwnas
