// Helpers shared by hwnas's tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace hwnas::test {

/// Directory of the golden reference data (../shared/golden next to the repository). Records a
/// test failure naming the folder (ADD_FAILURE) when it does not exist.
std::string golden_dir();
/// Directory of the repository's own small test data (tests/data); the same failure if missing.
std::string test_data_dir();

/// n floats drawn uniformly from [lo, hi) by core/rng.h's generator seeded with `seed`.
std::vector<float> uniform_floats(std::size_t n, double lo, double hi, std::uint64_t seed);

/// Result of running a command line through /bin/sh.
struct CommandResult {
  int exit_code = -1;
  std::string out;  ///< standard output
  std::string err;  ///< standard error
};

/// Runs `command` (a shell command line) and captures stdout and stderr separately.
CommandResult run_command(const std::string& command);

/// The message of the hwnas::Error `fn` throws; records a test failure (ADD_FAILURE) and returns
/// "<no hwnas::Error>" when it throws none, so a `find` of the expected words fails too.
std::string error_of(const std::function<void()>& fn);

/// A fresh empty directory under the system temp dir, unique per call, removed with everything
/// in it when the test process exits (kept with HWNAS_KEEP_TEST_DIRS=1).
std::string make_temp_dir(const std::string& prefix);

/// Sets an environment variable for the scope's lifetime and restores the old value (or its
/// absence) on exit. Not thread-safe, as setenv is not.
class ScopedEnv {
 public:
  ScopedEnv(const std::string& name, const std::string& value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_, old_;
  bool had_ = false;
};

}  // namespace hwnas::test
