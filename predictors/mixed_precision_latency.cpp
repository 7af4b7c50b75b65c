#include "predictors/mixed_precision_latency.h"

#include "core/error.h"

namespace hwnas {

MixedPrecisionLatency::MixedPrecisionLatency(std::shared_ptr<const LutLatencyPredictor> fp32,
                                             std::shared_ptr<const LutLatencyPredictor> int8)
    : fp32_(std::move(fp32)), int8_(std::move(int8)) {
  if (!fp32_ || !int8_) throw Error("mixed-precision latency needs an fp32 and an int8 table");
}

double MixedPrecisionLatency::predict_ms(const Network& net) const {
  if (!net.block_int8.empty() && net.block_int8.size() != net.blocks.size())
    throw Error("mixed-precision latency: " + std::to_string(net.block_int8.size()) +
                " block precisions for " + std::to_string(net.blocks.size()) + " blocks");
  Network fp32 = net, int8 = net;
  fp32.blocks.clear();
  int8.blocks.clear();
  fp32.block_int8.clear();
  int8.block_int8.clear();
  for (std::size_t i = 0; i < net.blocks.size(); ++i)
    (!net.block_int8.empty() && net.block_int8[i] ? int8 : fp32).blocks.push_back(net.blocks[i]);
  // Each sum carries its table's overhead; the inference has one, the fp32 table's.
  return fp32_->predict_sum_ms(fp32) + int8_->predict_sum_ms(int8) - int8_->overhead_ms();
}

std::string MixedPrecisionLatency::source() const {
  return "mixed:" + fp32_->source() + "+" + int8_->source();
}

}  // namespace hwnas
