// Fuzz target: a search run's database (DIR/run.db) as `hwnas export` and `hwnas search
// --resume` read it: the stored settings, every evaluation, the generations and the checkpoint.
#include <cstdint>
#include <filesystem>

#include "core/error.h"
#include "results/run_store.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/run_problem.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const hwnas::Problem& problem = hwnas::fuzz::run_problem();
  const std::string path = hwnas::fuzz::scratch_dir() + "/run.db";
  // A journal left by the previous input would be replayed into this one.
  for (const char* suffix : {"-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix);
  hwnas::fuzz::write_file("run.db", data, size);
  try {
    hwnas::RunStore store(path, /*create=*/false);
    (void)store.config();
    (void)store.evaluations();
    (void)store.generations();
    (void)store.evaluation_count();
    store.bind(problem);
    (void)store.load_checkpoint();
  } catch (const hwnas::Error&) {
  }
  return 0;
}
