#include "predictors/latency_correction.h"

#include "evaluators/ops/eigen.h"  // its own block: it must precede <immintrin.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace hwnas {

std::size_t correction_kind_slot(BlockKind kind) {
  return std::min(static_cast<std::size_t>(kind), kBlockKindCount);
}

std::string correction_slot_name(std::size_t slot) {
  if (slot >= kBlockKindCount) return "registered";
  return std::string(block_kind_name(static_cast<BlockKind>(slot)));
}

std::size_t block_stage_level(const BlockSpec& block) {
  const auto& names = block_attr_names(block.kind);
  if (std::find(names.begin(), names.end(), "h") == names.end()) return 0;
  const int h = block.get("h");
  if (h <= 1) return 0;
  return std::min(static_cast<std::size_t>(std::lround(std::log2(h))), kStageLevels - 1);
}

void LatencyFeatures::add_block(const BlockSpec& block, double ms) {
  const std::size_t k = correction_kind_slot(block.kind);
  kind_ms[k] += ms;
  kind_count[k] += 1;
  stage_ms[k][block_stage_level(block)] += ms;
}

void LatencyFeatures::add_blocks_of(const LatencyFeatures& other) {
  for (std::size_t k = 0; k < kCorrectionKindSlots; ++k) {
    kind_ms[k] += other.kind_ms[k];
    kind_count[k] += other.kind_count[k];
    for (std::size_t l = 0; l < kStageLevels; ++l) stage_ms[k][l] += other.stage_ms[k][l];
  }
}

namespace {
// The fitted model's columns: each slot's sum and count, then each slot's per-level sums.
constexpr std::size_t kColumns = 2 * kCorrectionKindSlots + kCorrectionKindSlots * kStageLevels;

double column(const LatencyFeatures& f, std::size_t j) {
  if (j < kCorrectionKindSlots) return f.kind_ms[j];
  if (j < 2 * kCorrectionKindSlots) return f.kind_count[j - kCorrectionKindSlots];
  const std::size_t s = j - 2 * kCorrectionKindSlots;
  return f.stage_ms[s / kStageLevels][s % kStageLevels];
}
}  // namespace

LatencyCorrection LatencyCorrection::fit(const std::vector<LatencyFeatures>& features,
                                         const std::vector<double>& measured_ms, double lambda) {
  if (features.size() != measured_ms.size())
    throw Error("latency correction: " + std::to_string(features.size()) + " feature rows but " +
                std::to_string(measured_ms.size()) + " measurements");
  const int n = static_cast<int>(features.size());
  if (n < 3) throw Error("latency correction needs at least 3 measured networks (--samples)");
  // Only the columns that vary over the sample carry information; the others (most kinds and
  // levels of a space never occur) get weight 0 and stay out of the solve.
  std::vector<std::size_t> used;
  std::vector<double> mean, sd;
  for (std::size_t j = 0; j < kColumns; ++j) {
    double m = 0;
    for (const auto& f : features) m += column(f, j);
    m /= n;
    double v = 0;
    for (const auto& f : features) v += (column(f, j) - m) * (column(f, j) - m);
    if (const double d = std::sqrt(v / n); d > 1e-12) {
      used.push_back(j);
      mean.push_back(m);
      sd.push_back(d);
    }
  }
  const auto p = static_cast<Eigen::Index>(used.size());
  Eigen::MatrixXd Z(n, p);
  Eigen::VectorXd y(n);
  for (int i = 0; i < n; ++i) {
    const auto& f = features[static_cast<std::size_t>(i)];
    for (Eigen::Index c = 0; c < p; ++c) {
      const auto u = static_cast<std::size_t>(c);
      Z(i, c) = (column(f, used[u]) - mean[u]) / sd[u];
    }
    y(i) = measured_ms[static_cast<std::size_t>(i)] - f.plain_ms;
  }
  const double ybar = y.mean();
  const Eigen::VectorXd yc = y.array() - ybar;
  Eigen::VectorXd w(p);
  if (p > 0) {  // no column varies (every network alike): the mean residual alone
    Eigen::MatrixXd A = Z.transpose() * Z;
    A.diagonal().array() += lambda * n;
    w = A.ldlt().solve(Z.transpose() * yc);
  }

  LatencyCorrection c;
  c.lambda_ = lambda;
  c.samples_ = n;
  c.intercept_ = ybar;
  for (Eigen::Index col = 0; col < p; ++col) {
    const auto u = static_cast<std::size_t>(col);
    const double coef = w(col) / sd[u];
    c.intercept_ -= coef * mean[u];
    const std::size_t j = used[u];
    if (j < kCorrectionKindSlots) {
      c.scale_[j] = coef;
    } else if (j < 2 * kCorrectionKindSlots) {
      c.per_block_[j - kCorrectionKindSlots] = coef;
    } else {
      const std::size_t s = j - 2 * kCorrectionKindSlots;
      c.stage_scale_[s / kStageLevels][s % kStageLevels] = coef;
    }
  }
  return c;
}

std::vector<double> cross_validated_predictions(const std::vector<LatencyFeatures>& features,
                                                const std::vector<double>& measured_ms, int folds,
                                                const CorrectionFitter& fit) {
  if (folds < 2) throw Error("latency correction: cross-validation needs at least 2 folds");
  if (features.size() != measured_ms.size())
    throw Error("latency correction: " + std::to_string(features.size()) + " feature rows but " +
                std::to_string(measured_ms.size()) + " measurements");
  const std::size_t n = features.size(), k = static_cast<std::size_t>(folds);
  std::vector<double> predicted(n);
  for (std::size_t f = 0; f < k && f < n; ++f) {
    std::vector<LatencyFeatures> train_f;
    std::vector<double> train_m;
    for (std::size_t i = 0; i < n; ++i)
      if (i % k != f) {
        train_f.push_back(features[i]);
        train_m.push_back(measured_ms[i]);
      }
    const LatencyCorrection c = fit(train_f, train_m);
    for (std::size_t i = f; i < n; i += k) predicted[i] = c.apply(features[i]);
  }
  return predicted;
}

LatencyCorrection LatencyCorrection::fit_cross_validated(
    const std::vector<LatencyFeatures>& features, const std::vector<double>& measured_ms,
    int folds) {
  const std::size_t n = features.size();
  if (folds < 2 || n != measured_ms.size() || n < static_cast<std::size_t>(folds) ||
      n - (n + static_cast<std::size_t>(folds) - 1) / static_cast<std::size_t>(folds) < 3)
    return fit(features, measured_ms);
  double best_lambda = kCorrectionLambdas.front(), best_error = 0;
  for (const double lambda : kCorrectionLambdas) {
    const std::vector<double> predicted = cross_validated_predictions(
        features, measured_ms, folds,
        [lambda](const auto& f, const auto& m) { return fit(f, m, lambda); });
    double squared = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (measured_ms[i] > 0) squared += std::pow(predicted[i] / measured_ms[i] - 1, 2);
    // Ascending penalties: <= hands a tie to the larger, simpler model.
    if (lambda == kCorrectionLambdas.front() || squared <= best_error)
      best_lambda = lambda, best_error = squared;
  }
  return fit(features, measured_ms, best_lambda);
}

nlohmann::json LatencyCorrection::to_json() const {
  nlohmann::json scale = nlohmann::json::object(), per_block = nlohmann::json::object(),
                 stage = nlohmann::json::object();
  for (std::size_t k = 0; k < kCorrectionKindSlots; ++k) {
    const std::string name = correction_slot_name(k);
    scale[name] = scale_[k];
    per_block[name] = per_block_[k];
    if (std::any_of(stage_scale_[k].begin(), stage_scale_[k].end(),
                    [](double v) { return v != 0; }))
      stage[name] = stage_scale_[k];
  }
  return {{"model", "ridge-per-kind-stage-v2"},
          {"intercept_ms", intercept_},
          {"scale", scale},
          {"per_block_ms", per_block},
          {"stage_scale", stage},
          {"lambda", lambda_},
          {"samples", samples_},
          {"space_speed", speed_}};
}

void LatencyCorrection::set_speed(double speed) {
  if (!std::isfinite(speed) || speed <= 0)
    throw Error("latency correction: space_speed must be a positive number, got " +
                std::to_string(speed) + "; re-fit it with `hwnas validate --fit-correction`");
  speed_ = speed;
}

namespace {
// The slot a stored name stands for: a kind's, or the shared slot of registered kinds.
std::size_t slot_from_name(const std::string& name) {
  if (name == "registered") return kBlockKindCount;
  return correction_kind_slot(block_kind_from_name(name));
}
}  // namespace

LatencyCorrection LatencyCorrection::from_json(const nlohmann::json& j) {
  // Compared as JSON: value("model", "") would throw a type_error for a non-string model.
  const bool v1 = j.is_object() && j.contains("model") && j.at("model") == "ridge-per-kind-v1";
  if (!v1 && !(j.is_object() && j.contains("model") && j.at("model") == "ridge-per-kind-stage-v2"))
    throw Error(
        "latency correction: unknown model (expected ridge-per-kind-stage-v2 or "
        "ridge-per-kind-v1); re-fit it with `hwnas validate --fit-correction`");
  LatencyCorrection c;
  try {
    c.intercept_ = j.at("intercept_ms").get<double>();
    c.lambda_ = j.at("lambda").get<double>();
    // get<int> casts a JSON float unchecked (undefined when out of range).
    if (!j.at("samples").is_number_integer())
      throw Error(
          "latency correction: 'samples' must be an integer; re-fit it with "
          "`hwnas validate --fit-correction`");
    c.samples_ = j.at("samples").get<int>();
    if (j.contains("space_speed")) {
      if (!j.at("space_speed").is_number())
        throw Error(
            "latency correction: 'space_speed' must be a number; re-fit it with "
            "`hwnas validate --fit-correction`");
      c.set_speed(j.at("space_speed").get<double>());
    }
    for (const auto& [name, v] : j.at("scale").items())
      c.scale_[slot_from_name(name)] = v.get<double>();
    for (const auto& [name, v] : j.at("per_block_ms").items())
      c.per_block_[slot_from_name(name)] = v.get<double>();
    if (!v1)
      for (const auto& [name, v] : j.at("stage_scale").items()) {
        if (!v.is_array() || v.size() != kStageLevels)
          throw Error("latency correction: stage_scale of '" + name + "' must list " +
                      std::to_string(kStageLevels) +
                      " levels; re-fit it with `hwnas validate --fit-correction`");
        c.stage_scale_[slot_from_name(name)] = v.get<std::array<double, kStageLevels>>();
      }
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("latency correction: malformed stored model (") + e.what() +
                "); re-fit it with `hwnas validate --fit-correction`");
  }
  return c;
}

}  // namespace hwnas
