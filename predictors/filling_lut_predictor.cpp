#include "predictors/filling_lut_predictor.h"

#include <chrono>

#include "core/error.h"
#include "profilers/profiler.h"

namespace hwnas {

BlockFiller make_table_filler(std::string db_path, std::string device,
                              std::shared_ptr<Backend> backend, TimingConfig timing) {
  // Opened on the first fill, so a complete table is never written to.
  struct State {
    std::unique_ptr<LatencyTable> table;
    std::int64_t run_id = 0;
  };
  auto state = std::make_shared<State>();
  return [=](const std::vector<BlockSpec>& blocks) {
    if (!state->table) {
      auto table = std::make_unique<LatencyTable>(db_path, LatencyTable::Mode::read_write);
      try {
        table->ensure_device(backend->device(device));
      } catch (const Error& e) {
        throw Error(std::string(e.what()) +
                    " (missing rows are measured on the table's own "
                    "device, and backend '" +
                    backend->name() + "' is not it)");
      }
      adopt_stored_kernel_choices(*table, device, *backend);
      state->run_id = table->begin_run(device, backend->name() + " (search --fill)", timing);
      state->table = std::move(table);
    }
    const std::vector<TimingStats> stats = backend->measure_blocks(blocks, timing);
    if (stats.size() != blocks.size())
      throw Error("--fill: backend '" + backend->name() + "' returned " +
                  std::to_string(stats.size()) + " timings for " + std::to_string(blocks.size()) +
                  " blocks");
    std::vector<LatencyRow> rows;
    for (std::size_t i = 0; i < blocks.size(); ++i) rows.push_back({blocks[i].key(), stats[i], ""});
    store_kernel_choices(*state->table, device, *backend);
    state->table->insert(device, state->run_id, rows);
    return rows;
  };
}

FillingLutPredictor::FillingLutPredictor(std::shared_ptr<const LutLatencyPredictor> table,
                                         BlockFiller filler)
    : table_(std::move(table)), filler_(std::move(filler)) {
  if (!table_ || !filler_) throw Error("FillingLutPredictor needs a table and a filler");
}

std::shared_ptr<const LutLatencyPredictor> FillingLutPredictor::table() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return table_;
}

FillReport FillingLutPredictor::report() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return report_;
}

double FillingLutPredictor::predict_ms(const Network& net) const {
  std::shared_ptr<const LutLatencyPredictor> snapshot = table();
  if (!snapshot->missing(net).empty()) {
    std::lock_guard<std::mutex> lock(mutex_);
    // Another thread may have filled them while this one waited.
    const std::vector<BlockSpec> missing = table_->missing(net);
    if (!missing.empty()) {
      const auto t0 = std::chrono::steady_clock::now();
      const std::vector<LatencyRow> rows = filler_(missing);
      table_ = table_->with_rows(rows);
      report_.rows += rows.size();
      report_.fills += 1;
      report_.seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    snapshot = table_;
  }
  return snapshot->predict_ms(net);
}

std::string FillingLutPredictor::source() const {
  return table()->source() + " (filled as needed)";
}

}  // namespace hwnas
