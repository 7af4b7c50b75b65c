// The PyTorch fake-quant reference's int8 data (tools/hwnas_tools/fake_quant.py wrote
// tests/data/int8/<stem>.{plan.json,int8_logits.npy}) and how finely two int8 implementations
// can agree on a net at all.
#pragma once

#include <string>

#include "evaluators/engine/tensor.h"
#include "evaluators/io/npy.h"
#include "evaluators/io/safetensors.h"
#include "evaluators/quant/quantization.h"
#include "spaces/network.h"

namespace hwnas::test {

/// The reference's plan for net `stem`. Throws hwnas::Error naming the file and the script
/// that writes it when missing.
QuantPlan reference_int8_plan(const std::string& stem);
/// The reference's int8 logits (batch, classes) for the golden input of `stem`.
NpyArray reference_int8_logits(const std::string& stem);
/// One u8 step of the logits' range: (max - min) / 255, the unit parity is judged in.
double logit_step(const NpyArray& logits);

/// The engine's logits of `net` on `input`, fp32 and then quantized by `plan` (at the calling
/// thread's engine threads).
struct EngineLogits {
  Tensor fp32, int8;
};
EngineLogits engine_logits(const Network& net, const WeightStore& weights, const QuantPlan& plan,
                           const Tensor& input);

/// How far (max |difference|, in the logits' units) the engine's own int8 logits of `net` on
/// `input` move when every activation scale of `plan` grows by one part per million: a change
/// that only moves values lying within 1e-6 of a rounding boundary by one u8 step, as two
/// implementations' float rounding (x / s against x * (1 / s)) does. Where one such step
/// propagates far (ElasticViT), no two implementations can agree more closely than this.
double int8_rounding_sensitivity(const Network& net, const WeightStore& weights,
                                 const QuantPlan& plan, const Tensor& input);

}  // namespace hwnas::test
