#include "profilers/backend.h"

namespace hwnas {

std::vector<TimingStats> Backend::measure_networks(const std::vector<Network>& nets,
                                                   const TimingConfig& timing, int windows) {
  const TimingConfig per_window = window_config(timing, windows);
  std::vector<std::vector<TimingStats>> parts(nets.size());
  for (int w = 0; w < windows; ++w)
    for (std::size_t i = 0; i < nets.size(); ++i)
      parts[i].push_back(measure_network(nets[i], per_window));
  std::vector<TimingStats> out;
  for (const auto& p : parts) out.push_back(merge_windows(p));
  return out;
}

std::optional<std::vector<double>> Backend::inference_overheads(const std::vector<Network>&,
                                                                const TimingConfig&, int) {
  return std::nullopt;
}

}  // namespace hwnas
