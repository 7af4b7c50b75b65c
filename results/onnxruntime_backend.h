// ONNX Runtime as a latency backend: the runtime users deploy the front's models with, timed on
// this CPU. Each block is exported alone (results/onnx_export.h, native layouts, random weights)
// and each network whole, and a long-lived worker (tools/onnx/ort_worker.js: npm's
// onnxruntime-node, the CPU execution provider) times them with the runtime's own profiler, so
// the rows are the time inside ONNX Runtime. Tables, prediction, validation and search then
// work for ONNX Runtime as they do for hwnas's engine.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/line_process.h"
#include "profilers/backend.h"

namespace hwnas {

struct OnnxRuntimeOptions {
  int threads = 1;                   ///< intra-op threads (one inter-op thread, sequential)
  std::uint64_t seed = 0;            ///< random weights and inputs
  std::string optimization = "all";  ///< graph optimisation level: disabled|basic|extended|all
  /// Where onnxruntime-node is installed; empty: $HWNAS_ORT_NODE_MODULES, else the source tree's
  /// tools/onnx/node_modules (scripts/install-deps.sh installs it).
  std::string node_modules;
  double timeout_s = 600;  ///< longest wait for one timing
};

class OnnxRuntimeBackend final : public Backend {
 public:
  /// Starts the worker and asks its version. Throws hwnas::Error naming what is missing (node,
  /// onnxruntime-node: the install command) or a bad option.
  explicit OnnxRuntimeBackend(OnnxRuntimeOptions options);
  ~OnnxRuntimeBackend() override;

  std::string name() const override { return "onnxruntime"; }
  /// This CPU (model, cores) with runtime "onnxruntime <version> cpu, graph optimization <level>
  /// (hwnas export <git>)": the export is part of what is timed.
  DeviceProfile device(const std::string& device_name) override;
  /// Each block exported alone and timed in its own session, less the runtime's run cost (the
  /// median of at least 200 runs of a one-Identity model, measured once): a network pays that cost
  /// once, which the table's per-inference overhead holds. Throws hwnas::Error naming the block
  /// when the runtime rejects it or the worker dies.
  std::vector<TimingStats> measure_blocks(const std::vector<BlockSpec>& blocks,
                                          const TimingConfig& timing) override;
  /// The whole network as `hwnas export --format onnx` writes it (logits output).
  TimingStats measure_network(const Network& net, const TimingConfig& timing) override;

 private:
  double run_cost_ms(const TimingConfig& timing);
  TimingStats time_model(const std::string& path, const std::vector<std::int64_t>& input_dims,
                         const TimingConfig& timing, const std::string& what);

  OnnxRuntimeOptions options_;
  std::string dir_;  // exported models, removed with the backend
  std::unique_ptr<LineProcess> worker_;
  std::string version_;
  int counter_ = 0;
  std::optional<double> run_cost_ms_;
};

/// Adds "onnxruntime" to the backend registry (profilers/backend_registry.h); BackendSpec's
/// threads and seed configure it. Idempotent. The `hwnas` executable calls it at start-up.
void register_onnxruntime_backend();

}  // namespace hwnas
