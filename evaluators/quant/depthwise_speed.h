// Per-layer choice of a depthwise convolution's precision by timing both kernels on this CPU
// (CalibrationOptions::depthwise = faster), as TensorRT's builder times each layer's tactics and
// keeps the fastest: int8 pays on a depthwise layer only where the product saves more than
// quantizing and padding its input costs (bench/README.md, "int8 depthwise, measured alone").
#pragma once

#include <nlohmann/json.hpp>

#include "evaluators/ops/depthwise_layer.h"
#include "evaluators/quant/quant_params.h"

namespace hwnas {

/// Both kernels' time for one depthwise layer on one image: medians in ms.
struct DepthwiseSpeed {
  double fp32_ms = 0;  ///< depthwise_conv2d
  double int8_ms = 0;  ///< Int8Depthwise, quantizing and padding the input included
};

/// int8 must be at least this much faster to be kept: near a tie the fp32 layer stays, being
/// the more accurate, and a layer's choice does not flip with the host's timing noise (about
/// 2-6 % per median on the shared 2-vCPU hosts, bench/README.md).
constexpr double kDepthwiseInt8Margin = 0.9;

/// Times `layer` in fp32 and in int8 (Int8Depthwise with `act`, per tensor) on a (1, h, w, c)
/// input, at one engine thread (the tables' standard), by hwnas's timing method
/// (evaluators/runtime/timing.h): three windows of each kernel, interleaved, each of at least 10
/// calls and 1 ms after 3 warm-up calls, a disturbed window retimed; the pooled medians. The
/// result is cached
/// per (c, kernel, stride, pad, activation, h, w) for the process, since neither the weights'
/// nor the activations' values change the kernels' speed: every layer of one shape gets the
/// same choice. Thread-safe. Throws hwnas::Error for h or w < 1, or as Int8Depthwise.
DepthwiseSpeed time_depthwise_layer(const DepthwiseLayer& layer, const ActivationQuant& act, int h,
                                    int w);

/// True where int8 is kept: speed.int8_ms <= kDepthwiseInt8Margin * speed.fp32_ms.
bool int8_depthwise_pays(const DepthwiseSpeed& speed);

/// The process's timings so far, {"c=C,k=K,s=S,p=P,act=A,h=H,w=W": {"fp32_ms": .., "int8_ms":
/// ..}}: what a latency table stores beside rows timed with these choices, so that the plans a
/// later process makes choose as the rows did (a fresh timing near the margin could flip).
nlohmann::json depthwise_speeds_json();

/// Takes `speeds` (depthwise_speeds_json's form) as this process's timings: later
/// time_depthwise_layer calls on those shapes return them instead of timing. Entries replace
/// the process's own. Throws hwnas::Error naming a malformed shape or timing, before taking any.
void remember_depthwise_speeds(const nlohmann::json& speeds);

}  // namespace hwnas
