#include "distributed/mpi_session.h"

#include <mpi.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/error.h"
#include "distributed/mpi_wait.h"

namespace hwnas::mpi {

bool available() { return true; }

std::optional<MPI_Status> wait_for_until(int source, int tag,
                                         std::chrono::steady_clock::time_point deadline) {
  // Poll without pause for 200 us (an answer to a cheap evaluation comes back within that), then
  // sleep 50 us between polls, 500 us once idle for 50 ms: a waiting rank then costs the busy
  // ones next to nothing.
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  MPI_Status status;
  int flag = 0;
  while (true) {
    MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, &status);
    if (flag) return status;
    const auto now = Clock::now();
    if (now >= deadline) return std::nullopt;
    const auto idle = now - start;
    if (idle < std::chrono::microseconds(200)) continue;
    std::this_thread::sleep_for(
        std::chrono::microseconds(idle < std::chrono::milliseconds(50) ? 50 : 500));
  }
}

MPI_Status wait_for(int source, int tag) {
  return *wait_for_until(source, tag, std::chrono::steady_clock::time_point::max());
}

void send_json(int rank, int tag, const nlohmann::json& message) {
  const std::string text = message.dump();
  MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, rank, tag, MPI_COMM_WORLD);
}

std::pair<int, nlohmann::json> receive_json(int source, int tag) {
  const MPI_Status status = wait_for(source < 0 ? MPI_ANY_SOURCE : source, tag);
  int len = 0;
  MPI_Get_count(&status, MPI_CHAR, &len);
  std::string text(static_cast<std::size_t>(len), '\0');
  MPI_Recv(text.data(), len, MPI_CHAR, status.MPI_SOURCE, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded())
    throw Error("rank " + std::to_string(status.MPI_SOURCE) +
                " sent a message that is not JSON: every rank must run the same hwnas build");
  return {status.MPI_SOURCE, std::move(j)};
}

Session::Session() {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
  if (provided < MPI_THREAD_SERIALIZED) {
    MPI_Finalize();
    throw Error("the MPI runtime does not support MPI_THREAD_SERIALIZED (it gave level " +
                std::to_string(provided) + ")");
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

Session::~Session() { MPI_Finalize(); }

bool all_ranks_reach_within(double timeout_s) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = timeout_s > 0 ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                           std::chrono::duration<double>(timeout_s))
                                      : Clock::time_point::max();
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  int done = 0;
  while (true) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return true;
    if (Clock::now() >= deadline) return false;  // the request stays pending: the job ends
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

int broadcast_from_root(int value) {
  MPI_Bcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return value;
}

std::vector<int> gather_to_root(const std::vector<int>& part) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int mine = static_cast<int>(part.size());
  std::vector<int> counts(static_cast<std::size_t>(size)), offsets(counts.size());
  MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::vector<int> all;
  if (rank == 0) {
    for (std::size_t r = 1; r < counts.size(); ++r) offsets[r] = offsets[r - 1] + counts[r - 1];
    all.resize(static_cast<std::size_t>(offsets.back() + counts.back()));
  }
  MPI_Gatherv(part.data(), mine, MPI_INT, all.data(), counts.data(), offsets.data(), MPI_INT, 0,
              MPI_COMM_WORLD);
  return all;
}

namespace {

std::vector<double> reduce_to_root(const std::vector<double>& values, MPI_Op op) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::vector<double> out(rank == 0 ? values.size() : 0);
  MPI_Reduce(values.data(), out.data(), static_cast<int>(values.size()), MPI_DOUBLE, op, 0,
             MPI_COMM_WORLD);
  return out;
}

}  // namespace

std::vector<double> sum_to_root(const std::vector<double>& values) {
  return reduce_to_root(values, MPI_SUM);
}

std::vector<double> max_to_root(const std::vector<double>& values) {
  return reduce_to_root(values, MPI_MAX);
}

void abort_job(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
}

}  // namespace hwnas::mpi
