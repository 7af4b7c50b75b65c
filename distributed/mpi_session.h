// The MPI runtime of one hwnas process (Open MPI through the MPI C API). It is initialised only
// when mpirun started the process, so a plain `hwnas ...` never starts MPI; in a build without
// MPI (HWNAS_MPI=OFF) the same calls say how to get it.
#pragma once

#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace hwnas::mpi {

/// True when a launcher started this process as a rank of a job (Open MPI's mpirun sets
/// OMPI_COMM_WORLD_SIZE, PMIx launchers PMIX_RANK).
bool launched_by_mpirun();

/// True when this build has MPI (HWNAS_MPI=ON).
bool available();

/// MPI_Init_thread (MPI_THREAD_SERIALIZED: one thread at a time calls MPI, the search's
/// evaluation thread on rank 0) on construction, MPI_Finalize on destruction. One per process.
/// Throws hwnas::Error if the build has no MPI (naming the CMake option and the Debian packages)
/// or the runtime does not give the thread level.
class Session {
 public:
  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

 private:
  int rank_ = 0;
  int size_ = 1;
};

/// Rank 0's `value` on every rank (MPI_Bcast): called by all ranks of the session together.
int broadcast_from_root(int value);

/// Sends `message` (its JSON text) to `rank` with `tag` (MPI_Send: returns once buffered).
void send_json(int rank, int tag, const nlohmann::json& message);
/// The next message with `tag` from `source` (-1: any rank), waiting without spinning, and its
/// sender. Throws hwnas::Error if it is not JSON.
std::pair<int, nlohmann::json> receive_json(int source, int tag);

/// Every rank's `part` concatenated in rank order, on rank 0 (empty on the others): called by
/// all ranks together (MPI_Gatherv).
std::vector<int> gather_to_root(const std::vector<int>& part);

/// The element-wise sum over ranks of `values` (same length on every rank), on rank 0 (empty
/// on the others); and the maximum (MPI_Reduce).
std::vector<double> sum_to_root(const std::vector<double>& values);
std::vector<double> max_to_root(const std::vector<double>& values);

/// Stops every rank of the job with exit code `code` (MPI_Abort): what a rank does when it
/// cannot go on and the others would wait for it forever.
[[noreturn]] void abort_job(int code);

/// A barrier (MPI_Ibarrier, polled without spinning) that gives up after `timeout_s` seconds
/// (0: waits as long as it takes): called by all ranks together. False when a rank did not
/// arrive in time, e.g. one frozen after its last evaluation; since MPI_Finalize would wait for
/// it as well, the caller then ends the job with abort_job.
bool all_ranks_reach_within(double timeout_s);

}  // namespace hwnas::mpi
