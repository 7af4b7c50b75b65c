// FillingLutPredictor: a lookup-table latency predictor that profiles the blocks its table
// lacks when a network needs them (`hwnas search --fill`), instead of failing.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "evaluators/runtime/timing.h"
#include "predictors/lut_latency_predictor.h"
#include "profilers/backend.h"

namespace hwnas {

/// Measures `blocks` (unique, none in the table yet) on the table's device, stores them in the
/// table and returns the stored rows. Throws hwnas::Error when measuring or storing fails.
using BlockFiller = std::function<std::vector<LatencyRow>(const std::vector<BlockSpec>& blocks)>;

/// A BlockFiller over `backend`: the first call opens `db_path` (creating it if absent),
/// registers `backend->device(device)` (hwnas::Error if the table holds a different profile
/// under that name: the backend is not the table's device) and starts one profiling run; every
/// call measures its blocks with `timing` and inserts them in ONE transaction.
BlockFiller make_table_filler(std::string db_path, std::string device,
                              std::shared_ptr<Backend> backend, TimingConfig timing);

/// What a FillingLutPredictor has filled so far.
struct FillReport {
  std::size_t rows = 0;   ///< rows measured and stored
  std::size_t fills = 0;  ///< filler calls (= table transactions)
  double seconds = 0;     ///< wall time spent in the filler
};

/// Sum-of-blocks prediction (LutLatencyPredictor) over a table that grows: when a network has
/// blocks without a row, they are measured through the filler (one call per network, serialised
/// under a mutex), added to the in-memory table and the prediction proceeds. Thread-safe;
/// networks whose blocks are all present take a shared snapshot and never wait on a fill.
class FillingLutPredictor final : public LatencyPredictor {
 public:
  /// `table`: the rows present at the start (LutLatencyPredictor::open_or_empty).
  FillingLutPredictor(std::shared_ptr<const LutLatencyPredictor> table, BlockFiller filler);
  /// Latency in ms; fills missing rows first. Throws what the filler throws.
  double predict_ms(const Network& net) const override;
  /// The table's source + " (filled as needed)".
  std::string source() const override;
  FillReport report() const;
  /// The table as it stands now (present and filled rows).
  std::shared_ptr<const LutLatencyPredictor> table() const;

 private:
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const LutLatencyPredictor> table_;  // replaced under mutex_
  BlockFiller filler_;
  mutable FillReport report_;
};

}  // namespace hwnas
