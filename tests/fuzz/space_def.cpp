// Fuzz target: a space-definition JSON (spaces/defs/<name>.json), parsed strictly.
#include <cstdint>

#include "core/error.h"
#include "core/json_util.h"
#include "spaces/space_def.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto j = hwnas::parse_json_text(hwnas::fuzz::as_text(data, size), "fuzz definition");
    const hwnas::SpaceDef def = hwnas::parse_space_def(j, "fuzz definition");
    for (const auto& d : def.dims) (void)def.dim_index(d.name);
    for (const auto& [key, value] : def.fixed) (void)def.fixed_int(key);
  } catch (const hwnas::Error&) {
  }
  return 0;
}
