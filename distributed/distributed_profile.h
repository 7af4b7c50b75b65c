// `hwnas profile` as one rank of an MPI job: the table's rows are measured on the worker ranks,
// a farm of identical devices (rank_farm_backend.h), and stored by rank 0.
#pragma once

#include <optional>
#include <vector>

#include "distributed/mpi_session.h"
#include "profilers/profile_run.h"

namespace hwnas::mpi {

/// Runs `config` on every rank of `session` (each with its own command line, e.g. the same one,
/// or mpirun's MPMD form). Rank 0: run_profile measuring through a RankFarmBackend when the job
/// has 2 ranks or more, and returns the report. Other ranks: serve_backend with the backend
/// their own config names, and return nullopt. Throws hwnas::Error on rank 0 for --agent (under
/// MPI the ranks are the devices), a rank of another device (naming it and the fields), and what
/// run_profile throws; the workers are released in every case.
struct DistributedProfileReport {
  ProfileReport report;
  /// Block timings per rank (a row timed in W windows counts W); rank 0 measures none.
  std::vector<std::size_t> blocks_per_rank;
};

std::optional<DistributedProfileReport> run_profile_distributed(Session& session,
                                                                ProfileRunConfig config);

}  // namespace hwnas::mpi
