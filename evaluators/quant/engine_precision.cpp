#include "evaluators/quant/engine_precision.h"

#include "core/error.h"

namespace hwnas {

namespace {
constexpr DepthwisePrecision kDepthwiseRules[] = {
    DepthwisePrecision::int8, DepthwisePrecision::faster, DepthwisePrecision::fp32};
}  // namespace

std::string int8_precision_name(DepthwisePrecision depthwise) {
  // All-int8 keeps the bare name: tables profiled before the rule existed are that device.
  return depthwise == DepthwisePrecision::int8
             ? "int8"
             : std::string("int8-dw") + depthwise_precision_name(depthwise);
}

EnginePrecision parse_engine_precision(const std::string& name) {
  if (name == "fp32") return {};
  for (DepthwisePrecision rule : kDepthwiseRules)
    if (name == int8_precision_name(rule)) return {true, rule};
  throw Error("unknown precision '" + name + "': use fp32, int8, int8-dwfaster or int8-dwfp32");
}

std::string engine_precision_name(const EnginePrecision& precision) {
  return precision.int8 ? int8_precision_name(precision.depthwise) : "fp32";
}

}  // namespace hwnas
