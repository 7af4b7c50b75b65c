// Fuzz target: an arch JSON (`--arch FILE` or inline `--arch '{...}'`) read by every space.
// An accepted arch must survive the round trip through to_json and decode to a consistent
// network; anything else must be refused with hwnas::Error.
#include <cstdint>
#include <cstdlib>

#include "core/error.h"
#include "core/json_util.h"
#include "spaces/registry.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nlohmann::json j;
  try {
    j = hwnas::parse_json_text(hwnas::fuzz::as_text(data, size), "fuzz arch JSON");
  } catch (const hwnas::Error&) {
    return 0;
  }
  static const auto names = hwnas::space_names();
  for (const auto& name : names) {
    const hwnas::SearchSpace& space = hwnas::get_space(name);
    try {
      const hwnas::Arch arch = space.from_json(j);
      space.validate(arch);
      if (space.from_json(space.to_json(arch)) != arch) std::abort();
      const hwnas::Network net = space.decode(arch);
      net.check_shapes();
      (void)net.macs();
      (void)net.params();
    } catch (const hwnas::Error&) {
    }
  }
  return 0;
}
