#include "predictors/latency_correction.h"

#include "evaluators/ops/eigen.h"  // its own block: it must precede <immintrin.h>

#include <cmath>
#include <string>

#include "core/error.h"

namespace hwnas {

LatencyCorrection LatencyCorrection::fit(const std::vector<LatencyFeatures>& features,
                                         const std::vector<double>& measured_ms, double lambda) {
  if (features.size() != measured_ms.size())
    throw Error("latency correction: " + std::to_string(features.size()) + " feature rows but " +
                std::to_string(measured_ms.size()) + " measurements");
  const int n = static_cast<int>(features.size());
  if (n < 3) throw Error("latency correction needs at least 3 measured networks (--samples)");
  constexpr int K = static_cast<int>(kBlockKindCount);
  const int p = 2 * K;
  Eigen::MatrixXd X(n, p);
  Eigen::VectorXd y(n);
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < K; ++k) {
      X(i, k) = features[i].kind_ms[k];
      X(i, K + k) = features[i].kind_count[k];
    }
    y(i) = measured_ms[i] - features[i].plain_ms;
  }
  const Eigen::RowVectorXd mean = X.colwise().mean();
  Eigen::RowVectorXd sd(p);
  for (int j = 0; j < p; ++j) {
    const double v = (X.col(j).array() - mean(j)).square().sum() / n;
    sd(j) = std::sqrt(v);
  }
  // Standardise; constant columns (sd ~ 0) carry no information and are dropped (weight 0).
  Eigen::MatrixXd Z = Eigen::MatrixXd::Zero(n, p);
  for (int j = 0; j < p; ++j)
    if (sd(j) > 1e-12) Z.col(j) = (X.col(j).array() - mean(j)) / sd(j);
  const double ybar = y.mean();
  const Eigen::VectorXd yc = y.array() - ybar;
  Eigen::MatrixXd A = Z.transpose() * Z;
  A.diagonal().array() += lambda * n;
  const Eigen::VectorXd w = A.ldlt().solve(Z.transpose() * yc);

  LatencyCorrection c;
  c.lambda_ = lambda;
  c.samples_ = n;
  c.intercept_ = ybar;
  for (int j = 0; j < p; ++j) {
    const double coef = sd(j) > 1e-12 ? w(j) / sd(j) : 0.0;
    c.intercept_ -= coef * mean(j);
    if (j < K)
      c.scale_[static_cast<std::size_t>(j)] = coef;
    else
      c.per_block_[static_cast<std::size_t>(j - K)] = coef;
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
  nlohmann::json scale = nlohmann::json::object(), per_block = nlohmann::json::object();
  for (std::size_t k = 0; k < kBlockKindCount; ++k) {
    const std::string name(block_kind_name(static_cast<BlockKind>(k)));
    scale[name] = scale_[k];
    per_block[name] = per_block_[k];
  }
  return {{"model", "ridge-per-kind-v1"}, {"intercept_ms", intercept_}, {"scale", scale},
          {"per_block_ms", per_block},    {"lambda", lambda_},          {"samples", samples_}};
}

LatencyCorrection LatencyCorrection::from_json(const nlohmann::json& j) {
  // Compared as JSON: value("model", "") would throw a type_error for a non-string model.
  if (!j.is_object() || !j.contains("model") || j.at("model") != "ridge-per-kind-v1")
    throw Error(
        "latency correction: unknown model (expected ridge-per-kind-v1); re-fit it with "
        "`hwnas validate --fit-correction`");
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
    for (const auto& [name, v] : j.at("scale").items())
      c.scale_[static_cast<std::size_t>(block_kind_from_name(name))] = v.get<double>();
    for (const auto& [name, v] : j.at("per_block_ms").items())
      c.per_block_[static_cast<std::size_t>(block_kind_from_name(name))] = v.get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("latency correction: malformed stored model (") + e.what() +
                "); re-fit it with `hwnas validate --fit-correction`");
  }
  return c;
}

}  // namespace hwnas
