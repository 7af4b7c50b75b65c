// SurrogateAccuracy: a ridge-regression accuracy model fitted on measured (arch, accuracy) rows.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "predictors/accuracy_predictor.h"
#include "spaces/search_space.h"

namespace hwnas {

struct SurrogateParams {
  double ridge_lambda = 1.0;  ///< L2 penalty on the one-hot weights (the intercept is free)
  int folds = 5;              ///< cross-validation folds for the reported Kendall tau
  std::uint64_t seed = 0;     ///< fold assignment
};

/// Ridge regression (Hoerl & Kennard 1970) on one-hot encoded genes: accuracy = b + sum_d
/// w_d[option of gene d], solved in closed form with Eigen (LDLT). The cross-validated Kendall
/// tau-b between out-of-fold predictions and the true accuracies is computed at fit time.
/// Thread-safe; a prediction is one table lookup per gene.
class SurrogateAccuracy final : public AccuracyPredictor {
 public:
  /// Fits on `archs` (valid archs of `space`) and their accuracies. Throws hwnas::Error on fewer
  /// than 2 rows, mismatched lengths or invalid archs.
  SurrogateAccuracy(const SearchSpace& space, const std::vector<Arch>& archs,
                    const std::vector<double>& accuracies, SurrogateParams params,
                    std::string origin);

  /// Reads a CSV with the header `arch,accuracy`: one row per arch, the arch as JSON in the
  /// space's to_json form (quoted CSV field, "" for a quote), the accuracy a number. Throws
  /// hwnas::Error naming the file, the line and the problem.
  static std::unique_ptr<SurrogateAccuracy> from_csv(const SearchSpace& space,
                                                     const std::string& path,
                                                     SurrogateParams params = {});

  std::vector<double> predict(const std::vector<Arch>& archs) override;
  /// Prediction for one arch (no allocation). Throws hwnas::Error for a gene outside the space.
  double predict_one(const Arch& arch) const;
  std::string source() const override;
  bool thread_safe() const override { return true; }

  /// Cross-validated Kendall tau-b (NaN when there are fewer than 2 rows per fold).
  double cv_kendall_tau() const { return cv_tau_; }
  std::size_t rows() const { return rows_; }

 private:
  const SearchSpace& space_;
  std::string origin_;
  std::size_t rows_ = 0;
  double cv_tau_ = 0.0;
  double bias_ = 0.0;
  std::vector<int> offset_;               // per dim: smallest option value
  std::vector<std::vector<int>> lookup_;  // per dim: value - offset -> option index or -1
  std::vector<std::vector<double>> weight_;
};

/// Kendall's tau-b rank correlation of two equally long series (ties handled as in tau-b).
/// Throws hwnas::Error on different lengths; NaN if either series is constant.
double kendall_tau(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace hwnas
