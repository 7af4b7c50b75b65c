#include "evaluators/quant/engine_precision.h"

#include "core/error.h"

namespace hwnas {

namespace {
constexpr DepthwisePrecision kDepthwiseRules[] = {
    DepthwisePrecision::int8, DepthwisePrecision::faster, DepthwisePrecision::fp32};
}  // namespace

std::string int8_precision_name(DepthwisePrecision depthwise) {
  // All-int8 keeps the bare name: tables profiled before the rule existed are that device. The
  // names are spelled here, not built from calibration.cpp's, so that this file links alone
  // (the fuzz targets that validate a stored run configuration take it without the engine).
  switch (depthwise) {
    case DepthwisePrecision::int8:
      return "int8";
    case DepthwisePrecision::faster:
      return "int8-dwfaster";
    case DepthwisePrecision::fp32:
      return "int8-dwfp32";
  }
  throw Error("unknown depthwise precision");
}

EnginePrecision parse_engine_precision(const std::string& name) {
  if (name == "fp32") return {};
  for (DepthwisePrecision rule : kDepthwiseRules)
    if (name == int8_precision_name(rule)) return {true, rule};
  throw Error("unknown precision '" + name + "': use fp32, int8, int8-dwfaster or int8-dwfp32");
}

RunPrecision parse_run_precision(const std::string& name) {
  for (DepthwisePrecision rule : kDepthwiseRules)
    if (name == mixed_precision_name(rule)) return {true, {true, rule}};
  try {
    return {false, parse_engine_precision(name)};
  } catch (const Error&) {
    throw Error("unknown precision '" + name +
                "': use fp32, int8, int8-dwfaster, int8-dwfp32, mixed, mixed-dwfaster or "
                "mixed-dwfp32");
  }
}

std::string mixed_precision_name(DepthwisePrecision depthwise) {
  // The int8 stages' name with "mixed" in place of "int8".
  return "mixed" + int8_precision_name(depthwise).substr(4);
}

std::string engine_precision_name(const EnginePrecision& precision) {
  return precision.int8 ? int8_precision_name(precision.depthwise) : "fp32";
}

}  // namespace hwnas
