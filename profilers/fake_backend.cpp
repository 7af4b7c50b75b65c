#include "profilers/fake_backend.h"

#include <stdexcept>

#include "core/error.h"

namespace hwnas {
namespace {

// SplitMix64 finaliser: a well-mixed 64-bit hash of a 64-bit value.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Spread around the median like a real sample, so the stored statistics are plausible.
TimingStats stats_around(double median, int repeats) {
  TimingStats s;
  s.median_ms = median;
  s.p10_ms = median * 0.98;
  s.p90_ms = median * 1.03;
  s.mean_ms = median * 1.005;
  s.std_ms = median * 0.01;
  s.min_ms = median * 0.97;
  s.repeats = repeats;
  return s;
}

}  // namespace

DeviceProfile FakeBackend::device(const std::string& device_name) {
  DeviceProfile p;
  p.name = device_name.empty() ? "fake" : device_name;
  p.cpu_model = "fake-cpu seed=" + std::to_string(opt_.seed);
  p.logical_cores = 2;
  p.threads = opt_.threads;
  p.runtime = "hwnas-fake 1";
  p.precision = "fp32";
  p.batch = 1;
  return p;
}

double FakeBackend::block_ms(const BlockSpec& b) const {
  const FeatureShape in = block_input_shape(b);
  const FeatureShape out = block_output_shape(b);
  const BlockCost cost = block_cost(b);
  const double bytes =
      4.0 * (static_cast<double>(in.h) * in.w * in.c + static_cast<double>(out.h) * out.w * out.c +
             static_cast<double>(cost.params));
  const double t =
      opt_.base_ms + static_cast<double>(cost.macs) / opt_.macs_per_ms + bytes / opt_.bytes_per_ms;
  const std::uint64_t h = mix(BlockSpecHash{}(b) ^ mix(opt_.seed));
  const double u = static_cast<double>(h >> 11) * 0x1.0p-53;  // [0, 1)
  return t * (1.0 + opt_.jitter * (2.0 * u - 1.0));
}

std::vector<TimingStats> FakeBackend::measure_blocks(const std::vector<BlockSpec>& blocks,
                                                     const TimingConfig& timing) {
  std::vector<TimingStats> out;
  out.reserve(blocks.size());
  for (const auto& b : blocks) {
    if (opt_.fail_after_blocks >= 0 && measured_ >= opt_.fail_after_blocks)
      throw std::runtime_error("fake backend: simulated failure after " +
                               std::to_string(measured_) + " blocks");
    out.push_back(stats_around(block_ms(b), timing.min_repeats));
    ++measured_;
  }
  return out;
}

double FakeBackend::network_ms(const Network& net) const {
  double t = opt_.overhead_ms;
  for (const auto& b : net.blocks)
    t += block_ms(b) * (1.0 + (b.kind == BlockKind::meta3d ? opt_.meta3d_bias : 0.0)) +
         opt_.per_block_ms;
  return t;
}

TimingStats FakeBackend::measure_network(const Network& net, const TimingConfig& timing) {
  if (net.blocks.empty()) throw Error("fake backend: network has no blocks");
  return stats_around(network_ms(net), timing.min_repeats);
}

}  // namespace hwnas
