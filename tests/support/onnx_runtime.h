// ONNX Runtime for the tests: Microsoft's onnxruntime through its Node binding
// (tools/onnx/ort_run.js), an implementation independent of hwnas that checks what the ONNX
// export writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "evaluators/engine/tensor.h"

namespace hwnas::test {

/// The node_modules directory holding onnxruntime-node ($HWNAS_ORT_NODE_MODULES, else
/// tools/onnx/node_modules) when it and `node` are installed; nullopt otherwise.
std::optional<std::string> ort_modules();

/// Output of the single-output model at `path` run by ONNX Runtime on `input` (NHWC; given to
/// the model as NCHW), flattened. Fails the calling test (EXPECT) when the runtime fails.
std::vector<float> run_ort(const std::string& modules, const std::string& path,
                           const Tensor& input);

/// The output of the model at `path` run by ONNX Runtime on `input` given as is with dimensions
/// `dims` (e.g. (B, N, C) tokens), flattened; its dimensions in `out_dims` when given.
std::vector<float> run_ort_raw(const std::string& modules, const std::string& path,
                               const std::vector<float>& input,
                               const std::vector<std::int64_t>& dims,
                               std::vector<std::int64_t>* out_dims = nullptr);

}  // namespace hwnas::test

/// Declares `var` = ort_modules() and skips the test, naming the install command, without it.
#define HWNAS_REQUIRE_ORT(var)                                                       \
  const auto var = ::hwnas::test::ort_modules();                                     \
  if (!var)                                                                          \
  GTEST_SKIP() << "ONNX Runtime is not installed: run scripts/install-deps.sh (npm " \
                  "ci --ignore-scripts --prefix tools/onnx) or set HWNAS_ORT_NODE_MODULES"
