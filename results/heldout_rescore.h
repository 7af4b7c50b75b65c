// A final, held-out re-scoring of a run's front: each member's accuracy on a split the search
// never saw (Fashion-MNIST's test images), and which members that evaluation shows dominated.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "predictors/accuracy_interval.h"
#include "results/run_data.h"
#include "results/run_exports.h"
#include "spaces/search_space.h"

namespace hwnas {

/// One member re-scored on the held-out split.
struct HeldoutScore {
  std::string name;
  double accuracy = 0;        ///< top-1 fraction on the held-out images
  std::size_t samples = 0;    ///< images scored
  AccuracyInterval interval;  ///< 95 % Wilson interval of `accuracy`
  /// The member that dominates this one on the held-out accuracies (no worse in every
  /// objective, better in one; the other objectives as the run scored them), "" if none; the
  /// one with the highest held-out accuracy when several do.
  std::string dominated_by;
  /// dominated_by's held-out accuracy lies above this member's interval: dominated by more
  /// than the uncertainty of its own estimate.
  bool beyond_interval = false;
};

struct HeldoutRescore {
  std::string split;                  ///< "test" or "val"
  std::string source;                 ///< SupernetAccuracy::source() of the re-scoring
  double seconds = 0;                 ///< wall time of the evaluations
  std::vector<HeldoutScore> members;  ///< in the order given
  std::size_t dominated() const;
  std::size_t dominated_beyond_interval() const;
};

/// Re-scores the accuracy of `members` (select_members) with the run's own supernet, BN
/// recalibration, dataset and precision, on `samples` images of `split` (0 = all), with
/// `threads` engine threads, and marks dominated members among them. The run's other
/// objectives are kept. Throws hwnas::Error when the run has no accuracy objective or its
/// accuracy did not come from supernet:FILE (naming what it came from), and as SubnetEvaluator
/// (a missing checkpoint or dataset).
HeldoutRescore rescore_heldout(const RunData& run, const SearchSpace& space,
                               const std::vector<ExportMember>& members, const std::string& split,
                               std::size_t samples, int threads);

}  // namespace hwnas
