// Waiting for an MPI message without spinning a core (for the MPI build's own files only).
#pragma once

#include <mpi.h>

#include <chrono>
#include <optional>

namespace hwnas::mpi {

/// Polls (MPI_Iprobe) for a message from `source` (MPI_ANY_SOURCE allowed) with `tag`
/// (MPI_ANY_TAG allowed): without pause for 200 us, then sleeping between polls. Open MPI's
/// blocking receive spins at 100 % for as long as it waits, which on an oversubscribed host
/// takes the core from the ranks doing the work.
MPI_Status wait_for(int source, int tag);

/// The same, giving up at `deadline` (nullopt).
std::optional<MPI_Status> wait_for_until(int source, int tag,
                                         std::chrono::steady_clock::time_point deadline);

}  // namespace hwnas::mpi
