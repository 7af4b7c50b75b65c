// LocalBackend: the built-in engine in this process (evaluators/engine/measure.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "evaluators/engine/measure.h"
#include "profilers/backend.h"
#include "profilers/block_timing.h"

namespace hwnas {

/// Times blocks per `timing_mode` (profilers/block_timing.h) and networks with Model, at
/// `threads` engine threads (ThreadScope), batch `batch`, random weights and input from `seed`,
/// in `precision` fp32 or an int8 precision (evaluators/quant/engine_precision.h: every GEMM
/// layer quantized after one calibration forward on its timing input, and the depthwise layers
/// as the precision's rule says; evaluators/quant/int8_timing_preparer).
class LocalBackend final : public Backend {
 public:
  /// Throws hwnas::Error if threads < 1 or batch < 1, for an unknown precision, and for int8
  /// on a CPU without AVX2, VNNI or AMX.
  explicit LocalBackend(int threads, int batch = 1, std::uint64_t seed = 0,
                        BlockTiming timing_mode = BlockTiming::cold_weights,
                        const std::string& precision = "fp32");
  /// Throws hwnas::Error as the constructor when this process cannot time `precision` (unknown,
  /// or int8 on a CPU without AVX2, VNNI or AMX). Callers check it before they create a table file,
  /// so that a refused profile leaves none behind.
  static void require_precision(const std::string& precision);
  /// "local (<block timing>)", or "local <precision> (<block timing>)" for int8: recorded with
  /// every profiling run and with the block timing choice, so a table says what timed its rows.
  std::string name() const override {
    return std::string(precision_ == "fp32" ? "local" : "local " + precision_) + " (" +
           block_timing_name(mode_) + ")";
  }
  /// host_device_profile(device_name or "host", threads, batch, precision).
  DeviceProfile device(const std::string& device_name) override;
  std::vector<TimingStats> measure_blocks(const std::vector<BlockSpec>& blocks,
                                          const TimingConfig& timing) override;
  TimingStats measure_network(const Network& net, const TimingConfig& timing) override;
  /// Keeps the networks' models built across the windows (evaluators measure_networks).
  std::vector<TimingStats> measure_networks(const std::vector<Network>& nets,
                                            const TimingConfig& timing, int windows) override;
  /// 24 blocks per transaction: the profiler's windows of one row then lie ~1-2 s apart.
  /// Measured with the engine's block trace (evaluators measure_inference_overheads).
  std::optional<std::vector<double>> inference_overheads(const std::vector<Network>& nets,
                                                         const TimingConfig& timing,
                                                         int windows) override;
  int preferred_batch() const override { return 24; }
  /// In int8-dwfaster: depthwise_speeds_json() (the whole process's timings); else null.
  nlohmann::json kernel_choices() const override;
  /// In int8-dwfaster: remember_depthwise_speeds(choices); else ignored.
  void adopt_kernel_choices(const nlohmann::json& choices) override;

 private:
  MeasureOptions options(const TimingConfig& timing) const;

  int threads_, batch_;
  BlockTiming mode_;
  std::uint64_t seed_;
  std::string precision_;
  TimingPreparer prepare_;  // empty for fp32
  // Cold-weights setups of the most recently timed blocks (at most one batch): the profiler
  // times one batch in several windows and retimes disturbed ones, and rebuilding every weight
  // copy per window doubled the table's build time.
  struct Bench {
    std::unique_ptr<ColdWeightsBench> setup;
    std::uint64_t last_call = 0;
  };
  std::map<std::string, Bench> benches_;
  std::uint64_t calls_ = 0;
};

}  // namespace hwnas
