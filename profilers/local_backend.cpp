#include "profilers/local_backend.h"

#include <algorithm>

#include "core/error.h"
#include "evaluators/engine/measure.h"
#include "evaluators/quant/depthwise_speed.h"
#include "evaluators/quant/engine_precision.h"
#include "evaluators/quant/int8_gemm.h"
#include "evaluators/quant/quantization.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {

LocalBackend::LocalBackend(int threads, int batch, std::uint64_t seed, BlockTiming mode,
                           const std::string& precision)
    : threads_(threads), batch_(batch), mode_(mode), seed_(seed), precision_(precision) {
  if (threads < 1) throw Error("--threads must be >= 1, got " + std::to_string(threads));
  if (batch < 1) throw Error("batch must be >= 1, got " + std::to_string(batch));
  require_precision(precision);
  const EnginePrecision engine = parse_engine_precision(precision);
  if (engine.int8) prepare_ = int8_timing_preparer(engine.depthwise);
}

void LocalBackend::require_precision(const std::string& precision) {
  if (parse_engine_precision(precision).int8) require_int8_cpu();
}

nlohmann::json LocalBackend::kernel_choices() const {
  const EnginePrecision engine = parse_engine_precision(precision_);
  if (!engine.int8 || engine.depthwise != DepthwisePrecision::faster) return nullptr;
  return depthwise_speeds_json();
}

void LocalBackend::adopt_kernel_choices(const nlohmann::json& choices) {
  const EnginePrecision engine = parse_engine_precision(precision_);
  if (engine.int8 && engine.depthwise == DepthwisePrecision::faster)
    remember_depthwise_speeds(choices);
}

DeviceProfile LocalBackend::device(const std::string& device_name) {
  return host_device_profile(device_name.empty() ? "host" : device_name, threads_, batch_,
                             precision_);
}

MeasureOptions LocalBackend::options(const TimingConfig& timing) const {
  return {
      .threads = threads_, .batch = batch_, .timing = timing, .seed = seed_, .prepare = prepare_};
}

std::vector<TimingStats> LocalBackend::measure_blocks(const std::vector<BlockSpec>& blocks,
                                                      const TimingConfig& timing) {
  std::vector<TimingStats> out;
  out.reserve(blocks.size());
  if (mode_ != BlockTiming::cold_weights) {
    benches_.clear();
    for (const auto& b : blocks)
      out.push_back(time_block(b, mode_, threads_, batch_, seed_, timing, kColdWeightsRotationBytes,
                               prepare_));
    return out;
  }
  ThreadScope scope(threads_);
  ++calls_;
  // Memory bound: at most one batch of setups alive, this call's first. The setups this call
  // does not time go before its new ones are built: evicting them after kept two batches alive
  // at once, and with the allocator's retention the efficientformer table peaked at 20 GB.
  const std::size_t cap = std::max(blocks.size(), static_cast<std::size_t>(preferred_batch()));
  std::size_t building = 0;
  for (const auto& b : blocks) building += benches_.count(b.key()) ? 0 : 1;
  while (benches_.size() + building > cap) {
    auto oldest = benches_.end();
    for (auto it = benches_.begin(); it != benches_.end(); ++it) {
      const bool timed_now = std::any_of(blocks.begin(), blocks.end(),
                                         [&](const BlockSpec& b) { return b.key() == it->first; });
      if (!timed_now &&
          (oldest == benches_.end() || it->second.last_call < oldest->second.last_call))
        oldest = it;
    }
    if (oldest == benches_.end()) break;
    benches_.erase(oldest);
  }
  for (const auto& b : blocks) {
    Bench& bench = benches_[b.key()];
    if (!bench.setup)
      bench.setup =
          std::make_unique<ColdWeightsBench>(b, batch_, seed_, kColdWeightsRotationBytes, prepare_);
    bench.last_call = calls_;
    out.push_back(bench.setup->time(timing));
  }
  return out;
}

TimingStats LocalBackend::measure_network(const Network& net, const TimingConfig& timing) {
  const MeasureOptions opt = options(timing);
  return hwnas::measure_network(net, opt);
}

std::vector<TimingStats> LocalBackend::measure_networks(const std::vector<Network>& nets,
                                                        const TimingConfig& timing, int windows) {
  const MeasureOptions opt = options(timing);
  return hwnas::measure_networks(nets, opt, windows);
}

std::optional<std::vector<double>> LocalBackend::inference_overheads(
    const std::vector<Network>& nets, const TimingConfig& timing, int windows) {
  const MeasureOptions opt = options(timing);
  return hwnas::measure_inference_overheads(nets, opt, windows);
}

}  // namespace hwnas
