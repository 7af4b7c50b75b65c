#include "distributed/distributed_profile.h"

#include "core/error.h"
#include "distributed/rank_farm_backend.h"

namespace hwnas::mpi {

std::optional<ProfileReport> run_profile_distributed(Session& session, ProfileRunConfig config) {
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
  if (session.size() < 2) return run_profile(config);
  bool handed_over = false;
  config.wrap_backend = [&](std::unique_ptr<Backend> local,
                            const BackendSpec& spec) -> std::unique_ptr<Backend> {
    handed_over = true;
    return std::make_unique<RankFarmBackend>(session, std::move(local), spec.block_timing);
  };
  try {
    return run_profile(config);
  } catch (...) {
    if (!handed_over) release_backend_workers(session);
    throw;
  }
}

}  // namespace hwnas::mpi
