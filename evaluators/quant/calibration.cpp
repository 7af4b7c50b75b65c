#include "evaluators/quant/calibration.h"
#include "evaluators/ops/eigen.h"  // first: see eigen.h

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace hwnas {

const char* calibration_rule_name(CalibrationRule rule) {
  switch (rule) {
    case CalibrationRule::minmax:
      return "minmax";
    case CalibrationRule::percentile:
      return "percentile";
    case CalibrationRule::mse:
      return "mse";
  }
  return "?";
}

CalibrationRule parse_calibration_rule(const std::string& name) {
  if (name == "minmax") return CalibrationRule::minmax;
  if (name == "percentile") return CalibrationRule::percentile;
  if (name == "mse") return CalibrationRule::mse;
  throw Error("unknown calibration rule '" + name + "': use minmax, percentile or mse");
}

const char* depthwise_precision_name(DepthwisePrecision precision) {
  switch (precision) {
    case DepthwisePrecision::fp32:
      return "fp32";
    case DepthwisePrecision::int8:
      return "int8";
    case DepthwisePrecision::faster:
      return "faster";
  }
  return "?";
}

DepthwisePrecision parse_depthwise_precision(const std::string& name) {
  if (name == "fp32") return DepthwisePrecision::fp32;
  if (name == "int8") return DepthwisePrecision::int8;
  if (name == "faster") return DepthwisePrecision::faster;
  throw Error("unknown depthwise precision '" + name + "': use fp32, int8 or faster");
}

ActivationObserver::ActivationObserver(int k, int channels, std::uint64_t seed, int kept_rows,
                                       std::atomic<int>* clock)
    : k_(k),
      channels_(channels),
      capacity_(std::max(1, kept_rows)),
      clock_(clock),
      min_(static_cast<std::size_t>(std::max(channels, 1)), std::numeric_limits<float>::infinity()),
      max_(static_cast<std::size_t>(std::max(channels, 1)),
           -std::numeric_limits<float>::infinity()),
      state_(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {
  if (k < 1 || channels < 1 || k % channels != 0)
    throw Error("int8 calibration: " + std::to_string(channels) + " channels do not divide " +
                std::to_string(k) + " columns");
}

bool ActivationObserver::run(int m, const float* a, int lda, const PackedWeights&, float*, int,
                             const GemmEpilogue&, int p0, int) {
  // Column-split products hand the same rows to every panel range; count them once.
  if (p0 == 0) observe(a, m, lda);
  return false;
}

void ActivationObserver::observe(const float* a, int m, int lda) {
  std::lock_guard lock(mutex_);
  if (first_seen_ < 0 && clock_) first_seen_ = clock_->fetch_add(1);
  for (int i = 0; i < m; ++i) {
    const float* row = a + static_cast<long>(i) * lda;
    for (int j = 0; j < k_; ++j) {
      const int ch = j % channels_;
      min_[ch] = std::min(min_[ch], row[j]);
      max_[ch] = std::max(max_[ch], row[j]);
    }
    // Reservoir sampling (Vitter's algorithm R) on a splitmix64 stream of our own, so that the
    // kept rows depend on the seed and the row order only.
    long slot = seen_;
    if (seen_ >= capacity_) {
      state_ += 0x9E3779B97F4A7C15ull;
      std::uint64_t z = state_;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      z ^= z >> 31;
      slot = static_cast<long>(z % static_cast<std::uint64_t>(seen_ + 1));
    }
    ++seen_;
    if (slot >= capacity_) continue;
    if (static_cast<std::size_t>(slot) * k_ >= kept_.size()) kept_.resize((slot + 1) * k_);
    std::copy(row, row + k_, kept_.begin() + slot * k_);
  }
}

namespace {

double fake_quant_error(const std::vector<float>& values, float lo, float hi) {
  const AffineU8 p = affine_u8(lo, hi);
  const float inv = 1.0f / p.scale, z = static_cast<float>(p.zero_point);
  double err = 0;
  for (float v : values) {
    const float q = std::clamp(std::nearbyint(v * inv) + z, 0.0f, 255.0f);
    const double d = (q - z) * p.scale - v;
    err += d * d;
  }
  return err;
}

}  // namespace

std::pair<float, float> calibrated_range(std::vector<float> values, float lo, float hi,
                                         CalibrationRule rule, double percentile) {
  if (rule == CalibrationRule::minmax || values.empty()) return {lo, hi};
  if (rule == CalibrationRule::percentile) {
    if (!(percentile > 50 && percentile <= 100))
      throw Error("int8 calibration: percentile " + std::to_string(percentile) +
                  " is outside (50, 100]");
    const auto at = [&](double p) {
      const auto i = static_cast<std::size_t>(std::llround(p / 100.0 * (values.size() - 1)));
      std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(i),
                       values.end());
      return values[i];
    };
    return {std::max(lo, at(100 - percentile)), std::min(hi, at(percentile))};
  }
  std::pair<float, float> best{lo, hi};
  double best_err = fake_quant_error(values, lo, hi);
  float a = 1.0f;
  for (int step = 1; step <= 30; ++step) {
    a *= 0.85f;
    const double err = fake_quant_error(values, a * lo, a * hi);
    if (err < best_err) best_err = err, best = {a * lo, a * hi};
  }
  return best;
}

ActivationQuant choose_activation_quant(const ActivationObserver& seen, Granularity granularity,
                                        const CalibrationOptions& options) {
  if (seen.rows_seen() == 0)
    throw Error(
        "int8 calibration: a layer saw no calibration rows; run calibration forwards "
        "before choosing its quantization");
  const int channels = seen.channels();
  const std::vector<float>& kept = seen.kept();
  ActivationQuant q;
  q.granularity = granularity;
  if (granularity == Granularity::per_tensor) {
    const float lo = *std::min_element(seen.channel_min().begin(), seen.channel_min().end());
    const float hi = *std::max_element(seen.channel_max().begin(), seen.channel_max().end());
    const auto [a, b] = calibrated_range(kept, lo, hi, options.rule, options.percentile);
    const AffineU8 p = affine_u8(a, b);
    q.scale.assign(1, p.scale);
    q.zero_point.assign(1, p.zero_point);
    return q;
  }
  q.scale.resize(channels);
  q.zero_point.resize(channels);
  std::vector<float> values;
  for (int c = 0; c < channels; ++c) {
    values.clear();
    if (options.rule != CalibrationRule::minmax)
      for (std::size_t at = c; at < kept.size(); at += channels) values.push_back(kept[at]);
    const auto [a, b] = calibrated_range(values, seen.channel_min()[c], seen.channel_max()[c],
                                         options.rule, options.percentile);
    const AffineU8 p = affine_u8(a, b);
    q.scale[c] = p.scale;
    q.zero_point[c] = p.zero_point;
  }
  return q;
}

double int8_output_error(const ActivationObserver& seen, const std::vector<float>& w, int n,
                         const ActivationQuant& act, Granularity weights) {
  using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const int k = seen.k(), rows = std::min(64, seen.kept_count());
  if (rows == 0) return 0;
  const QuantizedWeights qw = quantize_weights(w, k, n, act, weights);
  RowMatrix wq(k, n);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < n; ++j) wq(i, j) = qw.q[static_cast<std::size_t>(i) * n + j] * qw.scale[j];
  // W' = diag(s) W, so the fake-quant product is (q_a - z) W'q with activations in steps of s:
  // dividing the fake-quant activations by s per column gives the integer operand.
  const ColumnQuant cols = expand_columns(act, k);
  RowMatrix a(rows, k), aq(rows, k);
  std::vector<float> fq(static_cast<std::size_t>(rows) * k);
  fake_quantize_activations(act, rows, k, seen.kept().data(), k, fq.data());
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < k; ++j) {
      a(i, j) = seen.kept()[static_cast<std::size_t>(i) * k + j];
      aq(i, j) = fq[static_cast<std::size_t>(i) * k + j] / cols.scale[j];
    }
  const Eigen::Map<const RowMatrix> wf(w.data(), k, n);
  const RowMatrix diff = a * wf - aq * wq;
  return static_cast<double>(diff.squaredNorm()) / (static_cast<double>(rows) * n);
}

}  // namespace hwnas
