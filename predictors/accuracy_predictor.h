// AccuracyPredictor: the interface search uses to score the accuracy of architectures.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "spaces/arch.h"

namespace hwnas {

/// Scores architectures by accuracy (top-1 as a fraction in [0, 1] unless `unit()` says
/// otherwise). Sources: an external command, a surrogate fitted on a CSV, supernet evaluation.
class AccuracyPredictor {
 public:
  virtual ~AccuracyPredictor() = default;
  /// One accuracy per arch, in order. Throws hwnas::Error on a failing source (a crashed
  /// external command, a timeout), naming the source. May be called from one thread at a time
  /// per instance unless `thread_safe()`.
  virtual std::vector<double> predict(const std::vector<Arch>& archs) = 0;
  /// Short description for reports, e.g. "surrogate:acc.csv (ridge, CV Kendall tau 0.81)".
  virtual std::string source() const = 0;
  /// Unit of the returned values (e.g. "top-1").
  virtual std::string unit() const { return "top-1"; }
  /// Held-out images the value predict() gave `arch` is a hit rate over, which its confidence
  /// interval needs (predictors/accuracy_interval.h); 0 when the value is not a counted
  /// proportion (a surrogate's estimate, an external command's score). Asked after predict()
  /// for the same arch, from the thread that called it.
  virtual std::size_t samples(const Arch& arch) {
    static_cast<void>(arch);
    return 0;
  }
  virtual bool thread_safe() const { return false; }
};

}  // namespace hwnas
