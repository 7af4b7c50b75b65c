#include "tests/distributed/mpi_support.h"

namespace hwnas::test {
namespace {

std::string mpirun() {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " HWNAS_MPIEXEC
         " --oversubscribe --mca btl self,vader ";
}

}  // namespace

CommandResult run_hwnas(int ranks, const std::string& args) {
  const std::string hwnas = std::string(HWNAS_BIN) + " " + args;
  if (ranks == 0) return run_command(hwnas);
  return run_command(mpirun() + "-n " + std::to_string(ranks) + " " + hwnas);
}

CommandResult run_hwnas_mpmd(const std::string& args0, int workers, const std::string& args1) {
  return run_command(mpirun() + "-n 1 " HWNAS_BIN " " + args0 + " : -n " + std::to_string(workers) +
                     " " HWNAS_BIN " " + args1);
}

}  // namespace hwnas::test
