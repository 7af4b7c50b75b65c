// The precision an engine device runs in, as one name: what a latency table's DeviceProfile,
// `hwnas profile --precision` and `hwnas search --precision` carry, so that rows timed with one
// depthwise rule are never read as another's (issue 19).
#pragma once

#include <string>

#include "evaluators/quant/calibration.h"

namespace hwnas {

/// fp32, or int8 (GEMM layers quantized) with a rule for the depthwise layers.
struct EnginePrecision {
  bool int8 = false;
  DepthwisePrecision depthwise = DepthwisePrecision::int8;  ///< int8 only
};

/// "fp32"; "int8" (every depthwise layer in int8, the name int8 tables have carried since they
/// were added); "int8-dwfaster" (each depthwise layer in the faster kernel, depthwise_speed.h);
/// "int8-dwfp32" (depthwise layers kept fp32). Throws hwnas::Error naming the accepted values.
EnginePrecision parse_engine_precision(const std::string& name);

/// The name parse_engine_precision reads back.
std::string engine_precision_name(const EnginePrecision& precision);

/// The int8 precision whose depthwise layers follow `depthwise`: "int8", "int8-dwfaster" or
/// "int8-dwfp32".
std::string int8_precision_name(DepthwisePrecision depthwise);

/// A run's precision (`hwnas search --precision`, SubnetEvalOptions::precision): an engine
/// precision, or mixed, a precision gene per stage (spaces/precision_genes.h) whose int8 stages'
/// depthwise layers follow a rule: "mixed" (all int8), "mixed-dwfaster", "mixed-dwfp32".
struct RunPrecision {
  bool mixed = false;
  /// The precision of the int8 parts: the whole network's, or for mixed its int8 stages'
  /// (always int8 then).
  EnginePrecision engine;
};

/// An engine precision's name, or "mixed" with the same suffixes. Throws hwnas::Error naming
/// the accepted values.
RunPrecision parse_run_precision(const std::string& name);

/// "mixed", "mixed-dwfaster" or "mixed-dwfp32".
std::string mixed_precision_name(DepthwisePrecision depthwise);

}  // namespace hwnas
