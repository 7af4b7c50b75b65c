#include "profilers/local_backend.h"

#include "evaluators/measure.h"
#include "evaluators/thread_scope.h"
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
  if (mode_ != BlockTiming::cold_weights) {
    benches_.clear();
    for (const auto& b : blocks) out.push_back(time_block(b, mode_, threads_, batch_, seed_, timing));
    return out;
  }
  ThreadScope scope(threads_);
  pin_blas_single_thread();
  std::map<std::string, std::unique_ptr<ColdWeightsBench>> kept;
  for (const auto& b : blocks) {
    const std::string key = b.key();
    auto it = kept.find(key);
    if (it == kept.end()) {
      auto old = benches_.find(key);
      it = kept.emplace(key, old != benches_.end()
                                 ? std::move(old->second)
                                 : std::make_unique<ColdWeightsBench>(b, batch_, seed_, 64LL << 20))
               .first;
    }
    out.push_back(it->second->time(timing));
  }
  benches_ = std::move(kept);  // only this call's blocks stay built
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

std::optional<std::vector<double>> LocalBackend::inference_overheads(
    const std::vector<Network>& nets, const TimingConfig& timing, int windows) {
  MeasureOptions opt;
  opt.threads = threads_;
  opt.batch = batch_;
  opt.timing = timing;
  opt.seed = seed_;
  return hwnas::measure_inference_overheads(nets, opt, windows);
}

}  // namespace hwnas
