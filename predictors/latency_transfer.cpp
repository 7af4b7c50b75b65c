#include "predictors/latency_transfer.h"

#include "evaluators/ops/eigen.h"  // its own block: it must precede <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <set>
#include <string>

#include "core/error.h"

namespace hwnas {
namespace {

double rms_relative(const std::vector<double>& loo_log) {
  double s = 0;
  // The held-out prediction is target * exp(-residual): its relative error.
  for (double e : loo_log) s += (std::exp(-e) - 1) * (std::exp(-e) - 1);
  return loo_log.empty() ? 0.0 : std::sqrt(s / static_cast<double>(loo_log.size()));
}

double rms(const std::vector<double>& v) {
  double s = 0;
  for (double e : v) s += e * e;
  return v.empty() ? 0.0 : std::sqrt(s / static_cast<double>(v.size()));
}

}  // namespace

LatencyTransfer LatencyTransfer::fit(const std::vector<TransferSample>& samples) {
  const auto n = static_cast<Eigen::Index>(samples.size());
  if (n < 3)
    throw Error("latency transfer: " + std::to_string(n) +
                " blocks measured on the target; at least 3 are needed (raise --budget)");
  for (const auto& s : samples)
    if (!(s.target_ms > 0) || !std::isfinite(s.target_ms) || !std::isfinite(s.point.log_source_ms))
      throw Error("latency transfer: a sample has a non-positive or non-finite latency");
    else if (!(s.weight > 0) || !std::isfinite(s.weight))
      throw Error("latency transfer: a sample has a non-positive or non-finite weight");

  LatencyTransfer m;
  m.samples_ = static_cast<int>(n);
  std::vector<BlockKind> kinds;
  for (const auto& s : samples)
    if (!m.kind_a_.count(s.point.kind)) {
      m.kind_a_[s.point.kind] = 0;
      kinds.push_back(s.point.kind);
    }
  for (const auto& s : samples)
    m.mean_log_source_ += s.point.log_source_ms / static_cast<double>(n);
  auto size_terms = [](const BlockPoint& p) {
    return std::array<double, kSizeTerms>{p.log_macs, p.log_bytes, p.log_input, p.log_positions};
  };
  for (const auto& s : samples) {
    const auto v = size_terms(s.point);
    for (int d = 0; d < kSizeTerms; ++d) m.size_mean_[d] += v[d] / static_cast<double>(n);
  }
  for (const auto& s : samples) {
    const auto v = size_terms(s.point);
    for (int d = 0; d < kSizeTerms; ++d)
      m.size_sd_[d] += (v[d] - m.size_mean_[d]) * (v[d] - m.size_mean_[d]) / static_cast<double>(n);
  }
  for (double& sd : m.size_sd_) sd = sd > 1e-12 ? std::sqrt(sd) : 0.0;  // 0: constant, unused

  // A variant gets its own offset only beside another variant of its kind: alone, it is the
  // kind.
  std::map<BlockKind, std::set<std::string>> kind_variants;
  for (const auto& s : samples) kind_variants[s.point.kind].insert(s.point.variant);
  std::vector<std::string> variants;
  for (const auto& [kind, vs] : kind_variants)
    if (vs.size() >= 2) variants.insert(variants.end(), vs.begin(), vs.end());
  for (const auto& s : samples)
    if (std::find(variants.begin(), variants.end(), s.point.variant) != variants.end())
      ++m.variant_samples_[s.point.variant];

  // The response is log(t / s), so a zero coefficient everywhere is proportional scaling.
  // Columns: 1, centred log s (the shared slope's departure from 1), then per kind (1_k,
  // 1_k * centred log s), then the size terms, then one offset per variant.
  const auto k = static_cast<Eigen::Index>(kinds.size());
  const auto nv = static_cast<Eigen::Index>(variants.size());
  const Eigen::Index p = 2 + 2 * k + kSizeTerms + nv;
  Eigen::MatrixXd X = Eigen::MatrixXd::Zero(n, p);
  Eigen::VectorXd y(n), w(n);
  double weight_sum = 0;
  for (const auto& s : samples) weight_sum += s.weight;
  for (Eigen::Index i = 0; i < n; ++i) {
    // Weights of mean 1, so that the penalty grid means the same with and without them.
    w(i) = samples[static_cast<std::size_t>(i)].weight * static_cast<double>(n) / weight_sum;
    const BlockPoint& pt = samples[static_cast<std::size_t>(i)].point;
    X(i, 0) = 1;
    X(i, 1) = pt.log_source_ms - m.mean_log_source_;
    for (Eigen::Index j = 0; j < k; ++j)
      if (kinds[static_cast<std::size_t>(j)] == pt.kind) {
        X(i, 2 + 2 * j) = 1;
        X(i, 3 + 2 * j) = pt.log_source_ms - m.mean_log_source_;
      }
    const auto v = size_terms(pt);
    for (int d = 0; d < kSizeTerms; ++d)
      if (m.size_sd_[d] > 0) X(i, 2 + 2 * k + d) = (v[d] - m.size_mean_[d]) / m.size_sd_[d];
    for (Eigen::Index j = 0; j < nv; ++j)
      if (variants[static_cast<std::size_t>(j)] == pt.variant) X(i, 2 + 2 * k + kSizeTerms + j) = 1;
    y(i) = std::log(samples[static_cast<std::size_t>(i)].target_ms) - pt.log_source_ms;
  }
  // The shared offset is what every kind falls back to, unpenalised. The shared slope is
  // penalised towards proportional scaling: left free, 3-4 blocks fitted it through their own
  // noise (efficientformer-fmnist at 5 %: leave-one-out error 184 %, bench/README.md).
  Eigen::VectorXd penalty = Eigen::VectorXd::Ones(p);
  penalty(0) = 0;

  double best_err = std::numeric_limits<double>::infinity();
  Eigen::VectorXd best_beta;
  Eigen::VectorXd best_loo;
  const Eigen::MatrixXd XtW = X.transpose() * w.asDiagonal();
  const Eigen::MatrixXd XtX = XtW * X;
  const Eigen::VectorXd Xty = XtW * y;
  for (double lambda : {1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 1000.0}) {
    Eigen::MatrixXd A = XtX;
    A.diagonal() += lambda * penalty;
    // A tiny floor on the unpenalised offset keeps A invertible when every block has one size.
    A(0, 0) += 1e-9;
    const Eigen::LDLT<Eigen::MatrixXd> ldlt(A);
    if (ldlt.info() != Eigen::Success) continue;
    const Eigen::VectorXd beta = ldlt.solve(Xty);
    const Eigen::MatrixXd AinvXt = ldlt.solve(XtW);
    Eigen::VectorXd loo(n);
    double err = 0;
    bool usable = true;
    for (Eigen::Index i = 0; i < n; ++i) {
      const double h = X.row(i).dot(AinvXt.col(i));
      if (h > 1 - 1e-9) {  // a sample that alone decides its own fit: no held-out error
        usable = false;
        break;
      }
      loo(i) = (y(i) - X.row(i).dot(beta)) / (1 - h);
      err += w(i) * loo(i) * loo(i);
    }
    if (usable && err < best_err) {
      best_err = err;
      best_beta = beta;
      best_loo = loo;
      m.lambda_ = lambda;
    }
  }
  if (best_beta.size() == 0)
    throw Error("latency transfer: the " + std::to_string(n) +
                " measured blocks cannot be fitted (every penalty leaves a sample deciding its "
                "own fit); raise --budget");
  m.b_ = 1 + best_beta(1);
  m.a_ = best_beta(0) - best_beta(1) * m.mean_log_source_;
  for (Eigen::Index j = 0; j < k; ++j) {
    m.kind_a_[kinds[static_cast<std::size_t>(j)]] = best_beta(2 + 2 * j);
    m.kind_b_[kinds[static_cast<std::size_t>(j)]] = best_beta(3 + 2 * j);
  }
  for (int d = 0; d < kSizeTerms; ++d) m.size_coef_[d] = best_beta(2 + 2 * k + d);
  for (Eigen::Index j = 0; j < nv; ++j)
    m.variant_a_[variants[static_cast<std::size_t>(j)]] = best_beta(2 + 2 * k + kSizeTerms + j);
  for (Eigen::Index i = 0; i < n; ++i) {
    m.loo_log_.push_back(best_loo(i));
    m.kind_loo_log_[samples[static_cast<std::size_t>(i)].point.kind].push_back(best_loo(i));
  }
  m.cv_error_ = rms_relative(m.loo_log_);
  m.log_ratio_ = {std::numeric_limits<double>::infinity(),
                  -std::numeric_limits<double>::infinity()};
  std::map<BlockKind, std::pair<double, double>> range;
  for (const auto& s : samples) {
    const double r = std::log(s.target_ms) - s.point.log_source_ms;
    auto& k = range.try_emplace(s.point.kind, r, r).first->second;
    k = {std::min(k.first, r), std::max(k.second, r)};
    m.log_ratio_ = {std::min(m.log_ratio_.first, r), std::max(m.log_ratio_.second, r)};
  }
  for (const auto& [kind, r] : range)
    if (m.samples(kind) >= 2) m.kind_log_ratio_[kind] = r;
  return m;
}

double LatencyTransfer::predict_ms(const BlockPoint& p) const {
  double y = a_ + b_ * p.log_source_ms;
  if (const auto it = kind_a_.find(p.kind); it != kind_a_.end())
    y += it->second + kind_b_.at(p.kind) * (p.log_source_ms - mean_log_source_);
  const double v[kSizeTerms] = {p.log_macs, p.log_bytes, p.log_input, p.log_positions};
  for (int d = 0; d < kSizeTerms; ++d)
    if (size_sd_[d] > 0) y += size_coef_[d] * (v[d] - size_mean_[d]) / size_sd_[d];
  if (const auto vt = variant_a_.find(p.variant); vt != variant_a_.end()) y += vt->second;
  // The fit's y is a conditional median of log latency; rows are summed into networks, whose
  // expectation needs each row's mean: exp(sigma^2 / 2) above the median for log-normal errors
  // (the retransformation of Duan 1983, with the leave-one-out spread as sigma).
  const double sigma = log_sigma(p.kind);
  y += sigma * sigma / 2;
  const auto it = kind_log_ratio_.find(p.kind);
  const auto& [lo, hi] = it != kind_log_ratio_.end() ? it->second : log_ratio_;
  return std::exp(p.log_source_ms + std::clamp(y - p.log_source_ms, lo, hi));
}

double LatencyTransfer::cv_error(BlockKind kind) const {
  const auto it = kind_loo_log_.find(kind);
  return it != kind_loo_log_.end() && it->second.size() >= 2 ? rms_relative(it->second) : cv_error_;
}

double LatencyTransfer::log_sigma(BlockKind kind) const {
  const auto it = kind_loo_log_.find(kind);
  return it != kind_loo_log_.end() && it->second.size() >= 2 ? rms(it->second) : rms(loo_log_);
}

int LatencyTransfer::samples(BlockKind kind) const {
  const auto it = kind_loo_log_.find(kind);
  return it == kind_loo_log_.end() ? 0 : static_cast<int>(it->second.size());
}

nlohmann::json LatencyTransfer::to_json() const {
  nlohmann::json per_kind = nlohmann::json::object();
  for (const auto& [kind, a] : kind_a_)
    per_kind[std::string(block_kind_name(kind))] = {{"samples", samples(kind)},
                                                    {"cv_error", cv_error(kind)},
                                                    {"a", a},
                                                    {"b", kind_b_.at(kind)}};
  nlohmann::json per_variant = nlohmann::json::object();
  for (const auto& [variant, a] : variant_a_)
    per_variant[variant] = {{"samples", variant_samples_.at(variant)}, {"a", a}};
  return {{"model", "ridge-log-transfer-v6"},
          {"samples", samples_},
          {"lambda", lambda_},
          {"cv_error", cv_error_},
          {"shared", {{"a", a_}, {"b", b_}}},
          {"size_coef", {size_coef_[0], size_coef_[1], size_coef_[2], size_coef_[3]}},
          {"per_kind", per_kind},
          {"per_variant", per_variant}};
}

}  // namespace hwnas
