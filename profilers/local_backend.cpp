#include "profilers/local_backend.h"

#include "evaluators/measure.h"
#include "spaces/error.h"

namespace hwnas {

LocalBackend::LocalBackend(int threads, int batch, std::uint64_t seed, BlockTiming mode)
    : threads_(threads), batch_(batch), mode_(mode), seed_(seed) {
  if (threads < 1) throw Error("--threads must be >= 1, got " + std::to_string(threads));
  if (batch < 1) throw Error("batch must be >= 1, got " + std::to_string(batch));
}

DeviceProfile LocalBackend::device(const std::string& device_name) {
  return host_device_profile(device_name.empty() ? "host" : device_name, threads_, batch_);
}

std::vector<TimingStats> LocalBackend::measure_blocks(const std::vector<BlockSpec>& blocks,
                                                      const TimingConfig& timing) {
  std::vector<TimingStats> out;
  out.reserve(blocks.size());
  for (const auto& b : blocks) out.push_back(time_block(b, mode_, threads_, batch_, seed_, timing));
  return out;
}

TimingStats LocalBackend::measure_network(const Network& net, const TimingConfig& timing) {
  MeasureOptions opt;
  opt.threads = threads_;
  opt.batch = batch_;
  opt.timing = timing;
  opt.seed = seed_;
  return hwnas::measure_network(net, opt);
}

std::vector<TimingStats> LocalBackend::measure_networks(const std::vector<Network>& nets,
                                                        const TimingConfig& timing, int windows) {
  MeasureOptions opt;
  opt.threads = threads_;
  opt.batch = batch_;
  opt.timing = timing;
  opt.seed = seed_;
  return hwnas::measure_networks(nets, opt, windows);
}

}  // namespace hwnas
