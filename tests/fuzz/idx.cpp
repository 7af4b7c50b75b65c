// Fuzz target: an IDX file, plain or gzip-compressed (read_idx detects which).
#include <cstdint>

#include "core/error.h"
#include "evaluators/datasets/idx_reader.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = hwnas::fuzz::write_file("a-idx3-ubyte.gz", data, size);
  try {
    (void)hwnas::read_idx(path);
  } catch (const hwnas::Error&) {
  }
  return 0;
}
