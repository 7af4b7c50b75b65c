// Few-shot latency tables (issue 18): a new device's table from a small, chosen share of its
// blocks measured, and the rest predicted from another device's table by a transfer model.
// nn-Meter needs a new device's kernels all profiled; LitePred (NSDI 2024) adapts from
// 1,400-18,500 samples of CNN kernels. Here the samples are hwnas's transformer blocks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "predictors/latency_transfer.h"
#include "profilers/profile_run.h"
#include "spaces/search_space.h"

namespace hwnas {

/// The table the predictions transfer from: "PATH[#DEVICE]".
struct FewShotSource {
  std::string db;
  std::string device;  ///< empty: the file's only device
};

/// Parses "PATH[#DEVICE]". Throws hwnas::Error on an empty path or an empty device after '#'.
FewShotSource parse_few_shot_source(const std::string& arg);

/// How many of the space's blocks the target measures: a count or a percentage.
struct FewShotBudget {
  int blocks = 0;      ///< used when percent == 0
  double percent = 0;  ///< of the blocks to fill, rounded up
  std::string text;    ///< as given ("46", "5%")
};

/// Parses "N" (a positive count) or "P%" (0 < P <= 100). Throws hwnas::Error otherwise.
FewShotBudget parse_few_shot_budget(const std::string& arg);

/// The count `budget` stands for among `total` blocks (at least 1, at most total).
int budget_block_count(const FewShotBudget& budget, std::size_t total);

struct FewShotConfig {
  FewShotSource source;
  FewShotBudget budget;
  /// Networks (archs sampled with the profile's seed + 1) the expected end-to-end error is
  /// computed over.
  int error_networks = 200;
  /// Networks (archs sampled with the profile's seed + 2; with --archs, those archs) whose
  /// latency shares weigh the choice of blocks.
  int usage_networks = 500;
};

/// The end-to-end error the table's predicted rows are expected to cause, before any
/// validation. Each predicted block's relative error is taken as normal with its kind's
/// leave-one-out spread (LatencyTransfer::log_sigma), independent between distinct blocks and
/// shared by repeats of one block; each kind adds a shared bias of that spread over the square
/// root of its measured count (the uncertainty of its fitted scaling). A network's error is the
/// sum over its blocks relative to its predicted latency; measured rows add none.
struct ExpectedNetworkError {
  int networks = 0;
  double median_sd = 0;  ///< median over networks of the error's standard deviation (0.03 = 3 %)
  double p95_sd = 0;     ///< 95th percentile of the same
  double within_10 = 0;  ///< expected share of networks within +-10 % (0..1)
};

/// Networks a few-shot table weighs its blocks by (usage_weights): `count` archs of `space`
/// sampled at `resolution` with `seed`, decoded.
std::vector<Network> usage_networks(const SearchSpace& space, int resolution, int count,
                                    std::uint64_t seed);

/// The `count` blocks to measure next: choose_blocks_k_center weighted by usage_weights over
/// `nets` (`points[i]` are block i's features, `measured[i]` whether it has a measured row);
/// plain k-center when `nets` is empty. Throws what choose_blocks_k_center and usage_weights
/// throw.
std::vector<std::size_t> choose_few_shot_blocks(const std::vector<BlockSpec>& blocks,
                                                const std::vector<BlockPoint>& points,
                                                const std::vector<bool>& measured, int count,
                                                const std::vector<Network>& nets);

/// Each block's weight in the transfer model's fit (TransferSample::weight): the square root of
/// its usage_weights share over `nets`. The network sums are what a table is judged by, so a
/// block that carries more of them counts more; the root keeps a few heavy blocks from
/// deciding the fit alone (over 13 stored pairs at 5 %, the plain share lost more where the
/// root lost: bench/README.md, "Where tau at 5 % stops"). Empty (equal weights) when `nets` is
/// empty. Throws what usage_weights throws.
std::vector<double> few_shot_fit_weights(const std::vector<BlockSpec>& blocks,
                                         const std::vector<BlockPoint>& points,
                                         const std::vector<Network>& nets);

/// A device's table completed by transfer: every block's latency (ms), which of them are
/// predicted, and the model that predicted them.
struct TransferredTable {
  LatencyTransfer model;
  std::unordered_map<std::string, double> ms;  ///< by block key: measured or predicted
  std::unordered_set<std::string> predicted;   ///< keys of the predicted rows
};

/// Fits a LatencyTransfer on the blocks of `blocks` that have a target measurement in
/// `measured_ms` (by key; `points[i]` are block i's features with its source latency) and
/// predicts the others. `weights[i]` (empty: all 1) is block i's weight in the fit
/// (TransferSample::weight). Throws hwnas::Error when `weights` is neither empty nor one per
/// block, and what LatencyTransfer::fit throws (fewer than 3 measured).
TransferredTable transfer_table(const std::vector<BlockSpec>& blocks,
                                const std::vector<BlockPoint>& points,
                                const std::unordered_map<std::string, double>& measured_ms,
                                const std::vector<double>& weights = {});

/// ExpectedNetworkError of `nets` (each block in `table.ms`) whose inference costs
/// `overhead_ms` besides its blocks.
ExpectedNetworkError expected_network_error(const std::vector<Network>& nets,
                                            const TransferredTable& table, double overhead_ms);

struct FewShotReport {
  ProfileReport profile;  ///< the measuring pass (blocks_measured: newly measured)
  std::string source;     ///< "DB#DEVICE"
  std::string space;
  int blocks_total = 0;
  int budget_blocks = 0;
  int measured_before = 0;  ///< rows of the space's blocks measured before this call
  int measured = 0;         ///< after it
  int predicted = 0;        ///< predicted rows stored
  double cv_error = 0;      ///< the transfer model's leave-one-out relative error (RMS)
  nlohmann::json model;     ///< LatencyTransfer::to_json
  ExpectedNetworkError expected;
  std::optional<double> overhead_ms;
  double seconds = 0;  ///< wall time of the whole call
};

/// `hwnas profile --few-shot`: prepares what `config` names (prepare_profile), chooses blocks
/// to measure by usage-weighted k-center (choose_few_shot_blocks) until `fs.budget` of the blocks
/// are measured on the target (rows measured before count, so a larger budget later measures only
/// the difference), measures them, fits a LatencyTransfer on every measured block against the
/// source's rows, and stores a predicted row for every other block with the model as
/// calibration "few_shot:SPACE" in one transaction (measured rows are never replaced). Then the
/// per-inference overhead is measured as `hwnas profile` does, and the expected error computed.
/// Throws hwnas::Error when the source table or device is missing, the source lacks some of the
/// blocks (naming the count, the first and the command that fills them), fewer than 3 blocks
/// would be measured, or what profiling throws; rows measured before an error stay stored.
FewShotReport run_few_shot_profile(const ProfileRunConfig& config, const FewShotConfig& fs);

}  // namespace hwnas
