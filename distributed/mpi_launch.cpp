#include <cstdlib>

#include "distributed/mpi_session.h"

namespace hwnas::mpi {

bool launched_by_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr;
}

}  // namespace hwnas::mpi
