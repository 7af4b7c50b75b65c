// Fuzz target: a .npy file (reference inputs and logits, BN statistics).
#include <cstdint>

#include "core/error.h"
#include "evaluators/io/npy.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = hwnas::fuzz::write_file("a.npy", data, size);
  try {
    (void)hwnas::read_npy(path);
  } catch (const hwnas::Error&) {
  }
  return 0;
}
