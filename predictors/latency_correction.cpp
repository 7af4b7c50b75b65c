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
