// Fuzz target: a .safetensors weights file (the header JSON and the data offsets).
#include <cstdint>

#include "core/error.h"
#include "evaluators/io/safetensors.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = hwnas::fuzz::write_file("w.safetensors", data, size);
  try {
    const hwnas::WeightStore store = hwnas::load_safetensors(path);
    for (const auto& [name, t] : store.tensors) (void)hwnas::shape_string(t.shape);
  } catch (const hwnas::Error&) {
  }
  return 0;
}
