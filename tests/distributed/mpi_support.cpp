#include "tests/distributed/mpi_support.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

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

int hwnas_pid(int rank, const std::string& arg) {
  namespace fs = std::filesystem;
  for (const auto& p : fs::directory_iterator("/proc")) {
    const std::string name = p.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream env(p.path() / "environ"), cmd(p.path() / "cmdline");
    const std::string e((std::istreambuf_iterator<char>(env)), {});
    std::string c((std::istreambuf_iterator<char>(cmd)), {});
    std::replace(c.begin(), c.end(), '\0', ' ');
    if (c.find(HWNAS_BIN) != 0 || c.find(" " + arg + " ") == std::string::npos) continue;
    const bool is_rank = e.find("OMPI_COMM_WORLD_RANK=") != std::string::npos;
    const std::string mine = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank) + '\0';
    if (rank < 0 ? !is_rank : e.find(mine) != std::string::npos) return std::stoi(name);
  }
  return -1;
}

}  // namespace hwnas::test
