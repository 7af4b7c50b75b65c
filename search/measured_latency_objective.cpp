#include "search/measured_latency_objective.h"

namespace hwnas {

std::vector<double> MeasuredLatencyObjective::evaluate(const std::vector<Arch>& archs) {
  std::vector<double> out;
  out.reserve(archs.size());
  for (const auto& a : archs) out.push_back(measure_network(space_.decode(a), options_).median_ms);
  return out;
}

std::string MeasuredLatencyObjective::source() const {
  return "hwnas engine, " + std::to_string(options_.threads) + " thread(s), batch " +
         std::to_string(options_.batch);
}

}  // namespace hwnas
