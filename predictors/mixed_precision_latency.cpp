#include "predictors/mixed_precision_latency.h"

#include "core/error.h"

namespace hwnas {

MixedPrecisionLatency::MixedPrecisionLatency(std::shared_ptr<const LutLatencyPredictor> fp32,
                                             std::shared_ptr<const LutLatencyPredictor> int8)
    : fp32_(std::move(fp32)), int8_(std::move(int8)) {
  if (!fp32_ || !int8_) throw Error("mixed-precision latency needs an fp32 and an int8 table");
}

namespace {

// The fp32 blocks and the int8 blocks of `net`, as two networks.
std::pair<Network, Network> split_by_precision(const Network& net) {
  if (!net.block_int8.empty() && net.block_int8.size() != net.blocks.size())
    throw Error("mixed-precision latency: " + std::to_string(net.block_int8.size()) +
                " block precisions for " + std::to_string(net.blocks.size()) + " blocks");
  std::pair<Network, Network> out{net, net};
  for (Network* part : {&out.first, &out.second}) {
    part->blocks.clear();
    part->block_int8.clear();
  }
  for (std::size_t i = 0; i < net.blocks.size(); ++i)
    (!net.block_int8.empty() && net.block_int8[i] ? out.second : out.first)
        .blocks.push_back(net.blocks[i]);
  return out;
}

}  // namespace

double MixedPrecisionLatency::predict_ms(const Network& net) const {
  return features(net).plain_ms;
}

LatencyFeatures MixedPrecisionLatency::features(const Network& net) const {
  const auto [fp32, int8] = split_by_precision(net);
  LatencyFeatures f = fp32_->features(fp32);
  const LatencyFeatures g = int8_->features(int8);
  f.add_blocks_of(g);
  // Each plain sum carries its table's overhead; the inference has one, the fp32 table's.
  f.plain_ms += g.plain_ms - int8_->overhead_ms();
  return f;
}

std::string MixedPrecisionLatency::source() const {
  return "mixed:" + fp32_->source() + "+" + int8_->source();
}

}  // namespace hwnas
