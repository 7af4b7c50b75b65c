// Running hwnas under mpirun from the MPI tests.
#pragma once

#include <string>

#include "tests/support/test_support.h"

namespace hwnas::test {

/// `hwnas ARGS` alone (ranks 0) or under `mpirun -n ranks` (oversubscribed, shared memory on this
/// host only; as root with Open MPI's two consent variables).
CommandResult run_hwnas(int ranks, const std::string& args);

/// The same for mpirun's MPMD form: rank 0 runs `hwnas ARGS0`, ranks 1..workers `hwnas ARGS1`.
CommandResult run_hwnas_mpmd(const std::string& args0, int workers, const std::string& args1);

/// The pid of the running hwnas process whose command line holds the argument `arg` (e.g. its
/// --out or --db) and that is rank `rank` of an MPI job, or with rank -1 the one that is no rank
/// (a plain run); -1 if none.
int hwnas_pid(int rank, const std::string& arg);

}  // namespace hwnas::test
