// Post-training calibration of int8 activations: what a GEMM layer's input looks like over N
// calibration images, and the u8 quantization chosen from it (range rule, then granularity).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "evaluators/engine/tensor.h"
#include "evaluators/ops/depthwise_layer.h"
#include "evaluators/ops/packed_gemm.h"
#include "evaluators/quant/quant_params.h"

namespace hwnas {

/// How an activation range is taken from the calibration data.
///   minmax:     the observed minimum and maximum;
///   percentile: the p-th and (100 - p)-th percentiles (default p = 99.99), ignoring a few
///               outliers;
///   mse:        the range [a * lo, a * hi], a in {1, 0.85, 0.85^2, ..., 0.85^30}, whose
///   fake-quantized
///               values have the least squared error against the observed ones (as PyTorch's
///               HistogramObserver and Q-HyViT's search minimise a quantization error).
enum class CalibrationRule { minmax, percentile, mse };
const char* calibration_rule_name(CalibrationRule rule);
/// "minmax" / "percentile" / "mse"; throws hwnas::Error naming the accepted values.
CalibrationRule parse_calibration_rule(const std::string& name);

/// Which depthwise convolutions run in int8 (Int8Depthwise):
///   fp32:   none; they stay fp32 between the int8 GEMMs;
///   int8:   all of them;
///   faster: each in the faster of the two on this CPU, timed per layer at calibration
///           (depthwise_speed.h), as TensorRT's builder times each layer's tactics. A stride-2
///           3x3 layer does a quarter of a stride-1 layer's work on the same input, so quantizing
///           the input can cost more than the int8 product saves (bench/README.md).
enum class DepthwisePrecision { fp32, int8, faster };
const char* depthwise_precision_name(DepthwisePrecision precision);
/// "fp32" / "int8" / "faster"; throws hwnas::Error naming the accepted values.
DepthwisePrecision parse_depthwise_precision(const std::string& name);

struct CalibrationOptions {
  CalibrationRule rule = CalibrationRule::mse;
  double percentile = 99.99;
  /// Activation granularity; auto_granularity picks per layer the one whose simulated int8
  /// output is closer to fp32 on the kept rows (ties: per-tensor), as Q-HyViT picks a
  /// granularity per layer.
  bool auto_granularity = true;
  Granularity activations = Granularity::per_tensor;  ///< when !auto_granularity
  Granularity weights = Granularity::per_channel;
  /// Which depthwise convolutions run in int8 (activations per tensor, the one granularity its
  /// padding allows).
  DepthwisePrecision depthwise = DepthwisePrecision::int8;
  int kept_rows = 256;  ///< rows of each layer's input kept (reservoir) for percentile / mse
  std::uint64_t seed = 0;
};

/// Watches the input of one GEMM layer during calibration forwards: per-channel minimum and
/// maximum over every row, and a seeded reservoir sample of whole rows. As a GemmSite it lets
/// the fp32 product run. Thread-safe (a mutex per layer).
class ActivationObserver final : public GemmSite {
 public:
  /// k columns of `channels` channels each (column j reads channel j % channels). `clock`
  /// (optional, shared by a model's observers) numbers the layers in the order their first
  /// product runs. Throws hwnas::Error if channels does not divide k.
  ActivationObserver(int k, int channels, std::uint64_t seed, int kept_rows,
                     std::atomic<int>* clock = nullptr);
  bool run(int m, const float* a, int lda, const PackedWeights& b, float* c, int ldc,
           const GemmEpilogue& ep, int p0, int p1) override;
  /// Records m rows of k floats (leading dimension lda).
  void observe(const float* a, int m, int lda);

  int k() const { return k_; }
  int channels() const { return channels_; }
  long rows_seen() const { return seen_; }
  /// The clock's reading at the first observation (-1: none yet, or no clock).
  int first_seen() const { return first_seen_; }
  const std::vector<float>& channel_min() const { return min_; }
  const std::vector<float>& channel_max() const { return max_; }
  /// Kept rows, row-major (kept_count() x k).
  const std::vector<float>& kept() const { return kept_; }
  int kept_count() const { return static_cast<int>(kept_.size() / static_cast<std::size_t>(k_)); }

 private:
  int k_, channels_, capacity_;
  long seen_ = 0;
  int first_seen_ = -1;
  std::atomic<int>* clock_;
  std::vector<float> min_, max_, kept_;
  std::uint64_t state_;
  std::mutex mutex_;
};

/// Watches the input of one depthwise layer during calibration: every pixel's c channels are one
/// row of an ActivationObserver (k = channels = c). As a DepthwiseSite it lets the fp32 kernel
/// run. Same thread-safety as ActivationObserver.
class DepthwiseObserver final : public DepthwiseSite {
 public:
  DepthwiseObserver(int channels, std::uint64_t seed, int kept_rows, std::atomic<int>* clock)
      : seen_(channels, channels, seed, kept_rows, clock) {}
  bool run(const DepthwiseLayer&, const Tensor& in, Tensor&) override {
    height_ = in.h();
    width_ = in.w();
    seen_.observe(in.data(), static_cast<int>(in.size() / static_cast<std::size_t>(in.c())),
                  in.c());
    return false;
  }
  const ActivationObserver& seen() const { return seen_; }
  /// The input's height and width at the last observation (0: none yet).
  int height() const { return height_; }
  int width() const { return width_; }

 private:
  ActivationObserver seen_;
  int height_ = 0, width_ = 0;
};

/// The range the rule keeps of `values` (observed extremes lo <= hi). Throws hwnas::Error for a
/// percentile outside (50, 100].
std::pair<float, float> calibrated_range(std::vector<float> values, float lo, float hi,
                                         CalibrationRule rule, double percentile);
/// The layer's u8 quantization at `granularity` under the options' rule. Throws hwnas::Error
/// if the observer saw no rows.
ActivationQuant choose_activation_quant(const ActivationObserver& seen, Granularity granularity,
                                        const CalibrationOptions& options);
/// Mean squared difference, over the kept rows (at most 64) and the n outputs, between the
/// fp32 product kept x w (w k x n row-major) and its int8 simulation (fake-quantized inputs
/// times dequantized weights quantized for `act` at `weights` granularity).
double int8_output_error(const ActivationObserver& seen, const std::vector<float>& w, int n,
                         const ActivationQuant& act, Granularity weights);

}  // namespace hwnas
