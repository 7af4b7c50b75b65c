// Fuzz target: a .npz archive (zip of .npy members, stored or deflated).
#include <cstdint>

#include "core/error.h"
#include "evaluators/io/npz.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = hwnas::fuzz::write_file("a.npz", data, size);
  try {
    (void)hwnas::read_npz(path);
  } catch (const hwnas::Error&) {
  }
  return 0;
}
