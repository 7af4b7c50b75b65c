// Latency of a mixed-precision subnet (spaces/precision_genes.h) from two latency lookup
// tables of one device: its fp32 blocks' rows from the fp32 table, its int8 blocks' rows from
// the int8 one. The engine's int8 layers quantize their own fp32 input and hand fp32 on (the
// hybrid scheme of evaluators/quant/quantization.h), so a stage boundary between precisions
// costs nothing that the two tables' block rows do not already hold.
#pragma once

#include <memory>
#include <string>

#include "predictors/latency_predictor.h"
#include "predictors/lut_latency_predictor.h"

namespace hwnas {

class MixedPrecisionLatency final : public LatencyPredictor {
 public:
  /// Both tables of one device: `fp32` timed as built, `int8` with the GEMM layers in int8
  /// (conventionally devices D and int8_device_name(D), profilers/host_table.h). Throws
  /// hwnas::Error if either is null.
  MixedPrecisionLatency(std::shared_ptr<const LutLatencyPredictor> fp32,
                        std::shared_ptr<const LutLatencyPredictor> int8);
  /// ms: the fp32 table's per-inference overhead plus each block's median from the table of
  /// its precision (Network::block_int8; empty: every block fp32). The plain sum: neither
  /// table's learned correction applies, since each was fitted on one-precision networks.
  /// Throws hwnas::Error naming the table and the missing rows, as LutLatencyPredictor.
  double predict_ms(const Network& net) const override;
  /// The per-kind sums behind predict_ms (LatencyFeatures; plain_ms == predict_ms), for
  /// validate_latency. Same errors.
  LatencyFeatures features(const Network& net) const;
  /// "mixed:<fp32 source>+<int8 source>".
  std::string source() const override;

 private:
  std::shared_ptr<const LutLatencyPredictor> fp32_, int8_;
};

}  // namespace hwnas
