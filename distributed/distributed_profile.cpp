#include "distributed/distributed_profile.h"

#include "core/error.h"
#include "distributed/rank_farm_backend.h"

namespace hwnas::mpi {

std::optional<DistributedProfileReport> run_profile_distributed(Session& session,
                                                                ProfileRunConfig config) {
  if (session.rank() != 0) {
    // The block timing is rank 0's choice (it may time whole networks to pick it): setup
    // carries it.
    if (config.agent.empty()) serve_backend(profile_backend_spec(config, BlockTiming::hot));
    return std::nullopt;
  }
  if (!config.agent.empty()) {
    release_backend_workers(session);
    throw Error(
        "--agent cannot run under mpirun: the ranks are the devices; reach a board that cannot "
        "run MPI with `hwnas profile --agent` alone");
  }
  DistributedProfileReport out;
  out.blocks_per_rank.assign(static_cast<std::size_t>(session.size()), 0);
  if (session.size() < 2) {
    out.report = run_profile(config);
    return out;
  }
  bool handed_over = false;
  config.wrap_backend = [&](std::unique_ptr<Backend> local,
                            const BackendSpec& spec) -> std::unique_ptr<Backend> {
    handed_over = true;
    return std::make_unique<RankFarmBackend>(session, std::move(local), spec.block_timing,
                                             &out.blocks_per_rank);
  };
  try {
    out.report = run_profile(config);
    return out;
  } catch (...) {
    if (!handed_over) release_backend_workers(session);
    throw;
  }
}

}  // namespace hwnas::mpi
