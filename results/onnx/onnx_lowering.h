// The results layer's half of a model family's record: how its blocks become ONNX (opset 17)
// nodes. The built-in families' lowerings are listed in onnx_lowering.cpp; a family added at
// run time brings its own (results/family_registration.h). build_onnx_model looks the lowering
// up by the network's family, so the exporter has no per-family code.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "results/onnx/lowerings.h"

namespace hwnas::onnx_export {

struct OnnxLowering {
  /// The model family (evaluators/families/model_family.h) this lowers.
  std::string family;
  /// Lowers one block (`prefix`: its parameter-name prefix, param_prefixes) from value `x`
  /// and returns its output value; the contract of lower_efficientformer (lowerings.h).
  std::function<std::string(GraphBuilder& b, const BlockSpec& s, const std::string& prefix,
                            const std::string& x)>
      lower;
  /// The layout a block reads and the one it writes (the exporter converts between blocks).
  std::function<Layout(const BlockSpec&)> input_layout;
  std::function<Layout(const BlockSpec&)> output_layout;
};

/// Adds the lowering of a family. Thread-safe. Throws hwnas::Error if the family is empty or
/// already has one, or a function is missing.
void register_onnx_lowering(OnnxLowering lowering);

/// The lowering of family `family`. Throws hwnas::Error naming the family if it has none
/// ("... has no ONNX lowering").
const OnnxLowering& onnx_lowering(std::string_view family);

}  // namespace hwnas::onnx_export
