// A toy model family that exists only in the tests: two block kinds (a 3x3 convolution with
// ReLU, and a mean-pool + linear classifier), a search space over depth and width, engine
// blocks, parameter names and an ONNX lowering, all registered at run time through
// register_family (results/family_registration.h). It proves that a family needs no edit to any
// file of the library: describe, engine, latency table, search and export all reach it through
// the registry alone.
#pragma once

#include <string>
#include <vector>

#include "evaluators/io/safetensors.h"
#include "spaces/network.h"

namespace hwnas::test {

/// The toy space's name: genes depth {1,2,3}, width {4,8,12}, resolution {8, 12}; 1 grey input
/// channel, 3 classes. Network: toy_conv(1 -> width), (depth - 1) x toy_conv(width -> width),
/// toy_head(width -> 3), all at resolution x resolution.
inline constexpr const char* kToySpace = "toy-cnn";
inline constexpr int kToyClasses = 3;

/// Registers the toy family once per process (later calls do nothing). Thread-safe.
void register_toy_family();

/// The toy network's logits for NHWC images `x` (batch, h, w, 1) from `weights` (PyTorch
/// layouts under the toy's names), by plain loops in double precision: the independent
/// reference for the engine and the ONNX export. Returns (batch, classes) row-major.
std::vector<double> toy_reference_logits(const Network& net, const WeightStore& weights,
                                         const std::vector<float>& x, int batch);

}  // namespace hwnas::test
