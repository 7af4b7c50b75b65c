// The build without MPI (HWNAS_MPI=OFF, or no MPI found): Session's constructor says how to get
// it, so nothing else here is ever reached.
#include <cstdlib>

#include "core/error.h"
#include "distributed/mpi_evaluation.h"
#include "distributed/mpi_session.h"

namespace hwnas::mpi {

bool available() { return false; }

Session::Session() {
  throw Error(
      "this hwnas was built without MPI, so every rank would run the whole job alone: install "
      "libopenmpi-dev openmpi-bin (scripts/install-deps.sh does) and rebuild with -DHWNAS_MPI=ON, "
      "or run hwnas without mpirun");
}

Session::~Session() = default;

int broadcast_from_root(int value) { return value; }

void send_json(int, int, const nlohmann::json&) {
  throw Error("send_json: this hwnas was built without MPI");
}
std::pair<int, nlohmann::json> receive_json(int, int) {
  throw Error("receive_json: this hwnas was built without MPI");
}

std::vector<int> gather_to_root(const std::vector<int>& part) { return part; }
std::vector<double> sum_to_root(const std::vector<double>& values) { return values; }
std::vector<double> max_to_root(const std::vector<double>& values) { return values; }

void abort_job(int code) { std::exit(code); }

bool all_ranks_reach_within(double) { return true; }

EvaluationPool::EvaluationPool(int ranks, std::size_t metrics, double timeout_s)
    : ranks_(ranks), metrics_(metrics), timeout_s_(timeout_s) {
  throw Error("EvaluationPool: this hwnas was built without MPI");
}

EvaluationPool::~EvaluationPool() = default;

MetricValues EvaluationPool::evaluate(
    const std::vector<Arch>&, int,
    const std::function<void(std::size_t, const std::vector<double>&)>&) {
  throw Error("EvaluationPool: this hwnas was built without MPI");
}

void EvaluationPool::stop(bool) {}

std::vector<int> EvaluationPool::retired_ranks() const { return {}; }

bool serve_evaluations(Problem&, int, const std::function<std::vector<double>()>&) {
  throw Error("serve_evaluations: this hwnas was built without MPI");
}

}  // namespace hwnas::mpi
