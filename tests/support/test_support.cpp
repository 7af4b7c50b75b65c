#include "tests/support/test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/rng.h"

namespace hwnas::test {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no hwnas::Error thrown";
  return "<no hwnas::Error>";
}

std::string golden_dir() {
  // A missing golden folder fails the test by name, under the golden label, rather than turning
  // every comparison into an unrelated file error or a silent skip.
  if (!std::filesystem::is_directory(HWNAS_GOLDEN_DIR))
    ADD_FAILURE() << "golden data missing: " << HWNAS_GOLDEN_DIR
                  << " does not exist; put the shared folder (shared/golden) beside the checkout";
  return HWNAS_GOLDEN_DIR;
}

std::string test_data_dir() {
  if (!std::filesystem::is_directory(HWNAS_TEST_DATA_DIR))
    ADD_FAILURE() << "test data missing: " << HWNAS_TEST_DATA_DIR
                  << " does not exist; check out the repository's tests/data";
  return HWNAS_TEST_DATA_DIR;
}

namespace {
// The directories make_temp_dir made, removed when the test process exits (a suite of hundreds
// of tests otherwise leaves hundreds of directories, some of them models, in /tmp). Only the
// process that made them removes them; HWNAS_KEEP_TEST_DIRS=1 keeps them for a post-mortem.
class TempDirs {
 public:
  void add(const std::filesystem::path& dir) {
    std::lock_guard lock(mutex_);
    dirs_.push_back(dir);
  }
  ~TempDirs() {
    const char* keep = std::getenv("HWNAS_KEEP_TEST_DIRS");
    if (::getpid() != owner_ || (keep && std::string(keep) == "1")) return;
    std::error_code ec;  // best effort: a test may have removed its directory already
    for (const auto& d : dirs_) std::filesystem::remove_all(d, ec);
  }

 private:
  std::mutex mutex_;
  std::vector<std::filesystem::path> dirs_;
  pid_t owner_ = ::getpid();
};
}  // namespace

std::string make_temp_dir(const std::string& prefix) {
  static std::atomic<int> counter{0};
  static TempDirs made;
  const auto dir = std::filesystem::temp_directory_path() /
                   (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  made.add(dir);
  return dir.string();
}

ScopedEnv::ScopedEnv(const std::string& name, const std::string& value) : name_(name) {
  if (const char* old = std::getenv(name.c_str())) had_ = true, old_ = old;
  ::setenv(name.c_str(), value.c_str(), 1);
}

ScopedEnv::~ScopedEnv() {
  if (had_)
    ::setenv(name_.c_str(), old_.c_str(), 1);
  else
    ::unsetenv(name_.c_str());
}

CommandResult run_command(const std::string& command) {
  const std::string dir = make_temp_dir("hwnas-cmd");
  const std::string out_path = dir + "/out", err_path = dir + "/err";
  const int status = std::system((command + " >" + out_path + " 2>" + err_path).c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  };
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  std::filesystem::remove_all(dir);
  return r;
}

std::vector<float> uniform_floats(std::size_t n, double lo, double hi, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(lo + (hi - lo) * uniform_real(rng));
  return v;
}

}  // namespace hwnas::test
