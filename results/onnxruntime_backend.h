// ONNX Runtime as a latency backend: the runtime users deploy the front's models with, timed on
// this CPU. Each block is exported alone (results/onnx_export.h, native layouts, random weights)
// and each network whole, and a long-lived worker (tools/onnx/ort_worker.js: npm's
// onnxruntime-node, the CPU execution provider) times them with the runtime's own profiler, so
// the rows are the time inside ONNX Runtime. Tables, prediction, validation and search then
// work for ONNX Runtime as they do for hwnas's engine.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/line_process.h"
#include "profilers/backend.h"
#include "profilers/block_timing.h"

namespace hwnas {

struct OnnxRuntimeOptions {
  int threads = 1;                   ///< intra-op threads (one inter-op thread, sequential)
  std::uint64_t seed = 0;            ///< random weights and inputs
  std::string optimization = "all";  ///< graph optimisation level: disabled|basic|extended|all
  /// Where onnxruntime-node is installed; empty: $HWNAS_ORT_NODE_MODULES, else the source tree's
  /// tools/onnx/node_modules (scripts/install-deps.sh installs it).
  std::string node_modules;
  double timeout_s = 600;  ///< longest wait for one timing
  /// How block rows are timed (profilers/block_timing.h): hot, one session run back to back, or
  /// cold_weights, cold_weights_copies sessions of the block (each its own copy of the weights)
  /// run in rotation, with an input per session for a block that reads the network's image.
  /// Networks are timed whole either way.
  BlockTiming block_timing = BlockTiming::hot;
};

/// Where one model's run time goes inside ONNX Runtime, from its profiler's node events (after
/// the graph optimisations, so fused nodes count under their fused operator type).
struct OrtRunBreakdown {
  TimingStats run;     ///< model_run durations (ms), as measure_network's
  double kernel_ms{};  ///< median over runs of the run's summed kernel times (ms)
  /// Per operator type, the median over runs of its kernel times summed within a run (ms).
  std::map<std::string, double> op_ms;
};

class OnnxRuntimeBackend final : public Backend {
 public:
  /// Starts the worker and asks its version. Throws hwnas::Error naming what is missing (node,
  /// onnxruntime-node: the install command) or a bad option.
  explicit OnnxRuntimeBackend(OnnxRuntimeOptions options);
  ~OnnxRuntimeBackend() override;

  /// "onnxruntime (<block timing>)": recorded with every profiling run and the block timing
  /// choice, so a table says how its rows were timed.
  std::string name() const override {
    return "onnxruntime (" + block_timing_name(options_.block_timing) + ")";
  }
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

  /// The block exported and timed as measure_blocks does (hot: one session; run not net of the
  /// run cost), with its kernel breakdown. Same errors as measure_blocks.
  OrtRunBreakdown breakdown_block(const BlockSpec& block, const TimingConfig& timing);
  /// The network timed as measure_network, with its kernel breakdown. Same errors.
  OrtRunBreakdown breakdown_network(const Network& net, const TimingConfig& timing);
  /// The runtime's cost of a run (ms): the Identity model's median, timed once with at least
  /// 200 runs and 50 ms; block rows are net of it.
  double run_cost_ms(const TimingConfig& timing);

 private:
  /// Times `copies` sessions of the model in rotation (the worker's "time" request).
  TimingStats time_model(const std::string& path, const std::vector<std::int64_t>& input_dims,
                         const TimingConfig& timing, const std::string& what, int copies = 1,
                         bool distinct_inputs = false, OrtRunBreakdown* breakdown = nullptr);
  /// The block alone as a one-block network and its ONNX file (native layouts, random weights).
  std::string export_block(const BlockSpec& block, std::vector<std::int64_t>& input_dims);

  OnnxRuntimeOptions options_;
  std::string dir_;  // exported models, removed with the backend
  std::unique_ptr<LineProcess> worker_;
  std::string version_;
  int counter_ = 0;
  std::optional<double> run_cost_ms_;
};

/// Adds "onnxruntime" to the backend registry (profilers/backend_registry.h); BackendSpec's
/// threads, seed and block timing configure it. Idempotent. The `hwnas` executable calls it at
/// start-up.
void register_onnxruntime_backend();

}  // namespace hwnas
