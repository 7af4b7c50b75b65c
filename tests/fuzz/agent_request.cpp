// Fuzz target: the body of a POST /v1/measure or /v1/measure_network request to the profiling
// agent, checked as AgentServer checks it before anything is measured. The first byte picks the
// endpoint. The server answers nlohmann's exceptions and hwnas::Error with 400; anything else
// escaping would end its worker.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "profilers/agent_protocol.h"
#include "spaces/network.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool network = data[0] & 1;
  const std::string body(hwnas::fuzz::as_text(data + 1, size - 1));
  const hwnas::AgentLimits limits;
  if (body.size() > limits.max_body_bytes) return 0;
  try {
    const auto j = nlohmann::json::parse(body);
    if (!j.is_object()) return 0;
    const std::vector<hwnas::BlockSpec> blocks = hwnas::blocks_from_json(j, limits);
    if (!j.contains("timing")) return 0;
    (void)hwnas::timing_config_from_json(j["timing"], limits);
    for (const auto& b : blocks) (void)hwnas::block_memory_bytes(b);
    if (network) {
      hwnas::Network net;
      net.space = "agent";
      net.input = hwnas::block_input_shape(blocks.front());
      net.blocks = blocks;
      net.check_shapes();
    }
  } catch (const nlohmann::json::exception&) {
  } catch (const hwnas::Error&) {
  }
  return 0;
}
