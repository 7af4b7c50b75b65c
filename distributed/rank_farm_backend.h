// A farm of identical devices, one per MPI rank, as one latency backend: rank 0's profiler
// (profilers/profiler.h) measures through it as through any backend, and each block goes to
// whichever worker rank is free (dynamic scheduling), measured there by that rank's own
// backend (local engine or fake device). Rows come back to rank 0, which stores them in its
// table in the profiler's transactions. Every rank's DeviceProfile must equal rank 0's: rows of
// different devices must never share a table.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "distributed/mpi_session.h"
#include "profilers/backend.h"
#include "profilers/backend_registry.h"

namespace hwnas::mpi {

/// Rank 0's end. The workers must be in serve_backend.
class RankFarmBackend final : public Backend {
 public:
  /// `local`: rank 0's own backend of the same kind, whose profile the workers' must equal
  /// (rank 0 measures nothing). `block_timing`: how the workers' local engines time blocks.
  /// `blocks_per_rank`, when given, receives the block timings each rank did (index = rank; a
  /// row timed in W windows counts W times) as they come in, and outlives the backend (the profiler
  /// owns the backend).
  RankFarmBackend(Session& session, std::unique_ptr<Backend> local, BlockTiming block_timing,
                  std::vector<std::size_t>* blocks_per_rank = nullptr);
  /// Tells the workers to leave serve_backend.
  ~RankFarmBackend() override;

  std::string name() const override;
  /// Rank 0's profile, after every worker has built its backend and reported the same profile.
  /// Throws hwnas::Error naming the first rank whose profile differs and the fields
  /// (DeviceProfile::diff), or a worker's error.
  DeviceProfile device(const std::string& device_name) override;
  /// Each block on the next free worker; the statistics in `blocks` order. Throws hwnas::Error
  /// naming the rank and block of a worker's error (after every outstanding answer is in).
  std::vector<TimingStats> measure_blocks(const std::vector<BlockSpec>& blocks,
                                          const TimingConfig& timing) override;
  /// On the workers in turn.
  TimingStats measure_network(const Network& net, const TimingConfig& timing) override;
  /// One block per worker: each round of rows is committed as soon as it is in.
  int preferred_batch() const override;

 private:
  void setup(const std::string& device_name);

  Session& session_;
  std::unique_ptr<Backend> local_;
  BlockTiming block_timing_;
  bool ready_ = false;
  int next_network_rank_ = 1;
  std::vector<std::size_t> own_counts_;
  std::vector<std::size_t>* per_rank_;
};

/// A worker rank's loop: waits for rank 0's setup (device name, block timing), builds its own
/// backend from `spec` with that block timing, reports its DeviceProfile, then measures what
/// rank 0 sends until told to stop. Errors of a measurement are answered, not thrown.
void serve_backend(const BackendSpec& spec);

/// Tells every worker in serve_backend to leave it (when rank 0 fails before it built its
/// RankFarmBackend).
void release_backend_workers(Session& session);

}  // namespace hwnas::mpi
