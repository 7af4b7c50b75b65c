#include "predictors/latency_residuals.h"

#include "evaluators/ops/eigen.h"  // its own block: it must precede <immintrin.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace hwnas {

std::vector<KindResidual> residuals_by_kind(const std::vector<LatencyFeatures>& features,
                                            const std::vector<double>& measured_ms) {
  if (features.size() != measured_ms.size())
    throw Error("residuals by kind: features and measurements differ in length");
  if (features.size() < 2) throw Error("residuals by kind need at least 2 networks");
  const auto n = static_cast<Eigen::Index>(features.size());
  // Columns: the kinds present in some network, then the overhead.
  std::vector<std::size_t> kinds;
  for (std::size_t k = 0; k < kCorrectionKindSlots; ++k)
    if (std::any_of(features.begin(), features.end(),
                    [&](const auto& f) { return f.kind_ms[k] > 0; }))
      kinds.push_back(k);
  const auto p = static_cast<Eigen::Index>(kinds.size() + 1);
  Eigen::MatrixXd X(n, p);  // row sums (and the overhead) over measured
  Eigen::MatrixXd share(n, p);
  for (Eigen::Index i = 0; i < n; ++i) {
    const LatencyFeatures& f = features[static_cast<std::size_t>(i)];
    const double meas = measured_ms[static_cast<std::size_t>(i)];
    if (!(meas > 0) || !(f.plain_ms > 0))
      throw Error("residuals by kind: measured and predicted latencies must be > 0");
    double blocks_ms = 0;
    for (std::size_t c = 0; c < kinds.size(); ++c) {
      const double ms = f.kind_ms[kinds[c]];
      X(i, static_cast<Eigen::Index>(c)) = ms / meas;
      share(i, static_cast<Eigen::Index>(c)) = ms / f.plain_ms;
      blocks_ms += ms;
    }
    X(i, p - 1) = (f.plain_ms - blocks_ms) / meas;
    share(i, p - 1) = (f.plain_ms - blocks_ms) / f.plain_ms;
  }
  // min ||1 - X a||^2 + lambda ||a - 1||^2; lambda of 1e-4 per network only decides columns the
  // data cannot separate (stem and head: one each per network, almost constant times).
  const double lambda = 1e-4 * static_cast<double>(n);
  Eigen::MatrixXd A = X.transpose() * X;
  A.diagonal().array() += lambda;
  const Eigen::VectorXd ones_n = Eigen::VectorXd::Ones(n), ones_p = Eigen::VectorXd::Ones(p);
  const Eigen::VectorXd a = A.ldlt().solve(X.transpose() * ones_n + lambda * ones_p);

  std::vector<KindResidual> out;
  for (Eigen::Index c = 0; c < p; ++c) {
    KindResidual r;
    r.kind = c + 1 == p ? std::string("overhead")
                        : correction_slot_name(kinds[static_cast<std::size_t>(c)]);
    r.mean_share = share.col(c).mean();
    // A tiny or negative a: the data cannot separate this kind (a small share that moves with
    // another's); e = 1/a - 1 would be a meaningless huge number.
    r.identified = a(c) > 0.05;
    r.relative_error = r.identified ? 1.0 / a(c) - 1.0 : 0.0;
    r.contribution = r.identified ? (X.col(c) * (1.0 - a(c))).mean() : 0.0;
    if (c + 1 < p) {
      double blocks = 0;
      for (const auto& f : features) blocks += f.kind_count[kinds[static_cast<std::size_t>(c)]];
      r.mean_blocks = blocks / static_cast<double>(n);
    }
    out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const KindResidual& x, const KindResidual& y) {
    return std::abs(x.contribution) > std::abs(y.contribution);
  });
  return out;
}

nlohmann::json residuals_json(const std::vector<KindResidual>& residuals) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& r : residuals)
    j.push_back({{"kind", r.kind},
                 {"mean_share", r.mean_share},
                 {"mean_blocks", r.mean_blocks},
                 {"identified", r.identified},
                 {"relative_error",
                  r.identified ? nlohmann::json(r.relative_error) : nlohmann::json(nullptr)},
                 {"contribution",
                  r.identified ? nlohmann::json(r.contribution) : nlohmann::json(nullptr)}});
  return j;
}

}  // namespace hwnas
