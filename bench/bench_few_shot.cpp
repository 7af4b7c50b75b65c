// Few-shot latency tables replayed from two full tables (issue 18): for each budget, the blocks
// `hwnas profile --few-shot` would choose (k-center), their rows taken from the target's full
// table instead of measured, the transfer model fitted and the rest predicted, exactly as the
// command does. Timed: choosing, fitting and predicting. Counters, each against an independent
// reference:
//   measured, time_share      blocks measured; the share of the full table's measuring time
//                             (sum of the chosen rows' stored wall time over all rows')
//   block_rmspe, block_w10    predicted rows against the target's measured rows
//   model_cv                  the transfer model's own leave-one-out error (what it expects)
//   full_w10, full_tau        network block sums against the full table's sums
//   full_bias, full_spread    median of (sum / full table's sum - 1), and the RMS of its
//                             deviation from that median: a shared shift against scatter
//   e2e_w10, e2e_tau, e2e_rmspe   sum + the target's overhead against end-to-end measurements
//                             (the CSV of `hwnas validate --csv` on the full target table)
//   ref_e2e_w10, ref_e2e_tau  the full table's own figures on those networks (the ceiling)
//   expected_sd, expected_w10 the command's expected error, before any validation
//   source_tau                the source table's sums against the full table's: the ranking
//                             with no target row at all (any scaling keeps it)
//   oracle_tau, oracle_w10,   the transfer model fitted on every block of the full table,
//   oracle_rmspe              predicting every row: what the model's form leaves of a row when
//                             it knows them all, and the ranking it then gives. Fitted with
//                             equal weights, so a budget's picks (chosen by usage) can rank
//                             better; the same for every budget
//   oracle_nn_corr            correlation of that fit's log residual of each block with its
//                             nearest block's of the same kind (standardised log source ms,
//                             MACs, bytes, input): structure measured rows could pass on to
//                             their neighbours (0: noise alone)
//   rep_tau, rep_w10          with --replicate (a second full table of the target device, built
//                             at another time): its sums against the full table's, the ceiling
//                             "against the full table" has on a host whose rows move between
//                             builds
//   rep_few_shot_tau          the few-shot sums against the replicate's: the few-shot table
//                             judged by an independent full table, beside rep_tau
//   rep_row_spread            RMS over the space's blocks of log(replicate row / full table's
//                             row) around its median: how far a rebuild moves a row, beside
//                             block_rmspe
//   rep_e2e_tau, rep_e2e_w10  with --replicate-validation (the same networks measured end to
//                             end in another run): that run against the first, the ceiling of
//                             the end-to-end figures on this host
// Networks: the CSV's archs, else 200 sampled with seed 1.
//
// Parameters: --source=DB#DEVICE --target=DB#DEVICE (full tables of one space) --space=NAME
// --resolution=N --validation=CSV (optional) --replicate=DB#DEVICE (optional)
// --replicate-validation=CSV (optional, the same archs as --validation) --budget=LIST in
// percent (default 1,2,5,10,20) --weighted=LIST (0: plain k-center, 1: weighted by latency share as
// the command does, P >= 2: by that share to the power P, heavier blocks first; default 0,1,
// side by side) --fit-weight=LIST (the transfer model's sample
// weights: 0 equal, as v3 did; 1 the usage share of the picks' latency; 2 its square root, as
// the command does (few_shot_fit_weights); default 2).
#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/bench_common.h"
#include "core/error.h"
#include "predictors/block_selection.h"
#include "predictors/few_shot_table.h"
#include "predictors/latency_transfer.h"
#include "predictors/latency_validation.h"
#include "predictors/lut_latency_predictor.h"
#include "profilers/profiler.h"
#include "spaces/registry.h"

namespace hwnas::bench {
namespace {

using Measured = ValidationCsv;

struct Setup {
  std::vector<BlockSpec> blocks;
  std::vector<BlockPoint> points;
  std::unordered_map<std::string, double> target_ms, target_wall_ms;
  double total_wall_ms = 0, overhead_ms = 0;
  std::vector<Network> usage;  // as the command's: 500 archs, seed 2 (its default seed + 2)
  Measured measured;
  std::vector<double> full_sums;
  std::vector<std::vector<double>> fit_weights;  // usage share; the command's (its square root)
  double source_tau = 0, oracle_tau = 0, oracle_nn_corr = 0, oracle_w10 = 0, oracle_rmspe = 0;
  std::vector<double> replicate_sums;  // empty without --replicate
  double replicate_row_spread = 0;
  std::vector<double> replicate_e2e_ms;  // empty without --replicate-validation
};

std::unordered_map<std::string, LatencyRow> rows_of(const std::string& spec) {
  const FewShotSource s = parse_few_shot_source(spec);
  if (s.device.empty()) throw Error("name the device: " + spec + "#DEVICE");
  std::unordered_map<std::string, LatencyRow> out;
  for (auto& r : LatencyTable(s.db, LatencyTable::Mode::read_only).rows(s.device)) out[r.key] = r;
  return out;
}

double sum_of(const Network& net, const std::unordered_map<std::string, double>& ms) {
  double s = 0;
  for (const auto& b : net.blocks) s += ms.at(b.key());
  return s;
}

// oracle_nn_corr: whether a row's residual is shared by its nearest block of the same kind;
// only then could measured rows correct their neighbours.
double nearest_residual_corr(const Setup& s,
                             const std::unordered_map<std::string, double>& predicted_ms) {
  const std::size_t n = s.blocks.size();
  std::vector<std::array<double, 4>> z(n);
  std::array<double, 4> mean{}, sd{};
  for (std::size_t i = 0; i < n; ++i) {
    const BlockPoint& pt = s.points[i];
    z[i] = {pt.log_source_ms, pt.log_macs, pt.log_bytes, pt.log_input};
    for (int d = 0; d < 4; ++d) mean[d] += z[i][d] / static_cast<double>(n);
  }
  for (std::size_t i = 0; i < n; ++i)
    for (int d = 0; d < 4; ++d)
      sd[d] += (z[i][d] - mean[d]) * (z[i][d] - mean[d]) / static_cast<double>(n);
  for (std::size_t i = 0; i < n; ++i)
    for (int d = 0; d < 4; ++d) z[i][d] = sd[d] > 0 ? (z[i][d] - mean[d]) / std::sqrt(sd[d]) : 0;
  std::vector<double> r(n), r_nn;
  std::vector<double> r_self;
  for (std::size_t i = 0; i < n; ++i)
    r[i] = std::log(predicted_ms.at(s.blocks[i].key()) / s.target_ms.at(s.blocks[i].key()));
  for (std::size_t i = 0; i < n; ++i) {
    double best = std::numeric_limits<double>::infinity();
    std::size_t nn = i;
    for (std::size_t j = 0; j < n; ++j) {
      if (j == i || s.points[j].kind != s.points[i].kind) continue;
      double d2 = 0;
      for (int d = 0; d < 4; ++d) d2 += (z[i][d] - z[j][d]) * (z[i][d] - z[j][d]);
      if (d2 < best) best = d2, nn = j;
    }
    if (nn == i) continue;
    r_self.push_back(r[i]);
    r_nn.push_back(r[nn]);
  }
  return pearson_r(r_self, r_nn);
}

// source_tau and the oracle_* counters: the ranking with no target row, and the model fitted
// on every row.
void set_source_and_oracle(Setup& s, const std::unordered_map<std::string, LatencyRow>& source) {
  std::unordered_map<std::string, double> source_ms, oracle_ms;
  std::vector<TransferSample> all;
  for (std::size_t i = 0; i < s.blocks.size(); ++i) {
    const std::string key = s.blocks[i].key();
    source_ms[key] = source.at(key).stats.median_ms;
    all.push_back({s.points[i], s.target_ms.at(key)});
  }
  const LatencyTransfer model = LatencyTransfer::fit(all);
  double sq = 0;
  for (std::size_t i = 0; i < s.blocks.size(); ++i) {
    const std::string key = s.blocks[i].key();
    oracle_ms[key] = model.predict_ms(s.points[i]);
    const double e = oracle_ms[key] / s.target_ms.at(key) - 1;
    sq += e * e;
  }
  s.oracle_rmspe = std::sqrt(sq / static_cast<double>(std::max<std::size_t>(1, s.blocks.size())));
  s.oracle_nn_corr = nearest_residual_corr(s, oracle_ms);
  std::vector<double> src_sums, oracle_sums;
  int w10 = 0;
  for (std::size_t n = 0; n < s.measured.nets.size(); ++n) {
    src_sums.push_back(sum_of(s.measured.nets[n], source_ms));
    oracle_sums.push_back(sum_of(s.measured.nets[n], oracle_ms));
    w10 += std::abs(oracle_sums.back() / s.full_sums[n] - 1) <= 0.10;
  }
  s.source_tau = kendall_tau_b(src_sums, s.full_sums);
  s.oracle_tau = kendall_tau_b(oracle_sums, s.full_sums);
  s.oracle_w10 =
      static_cast<double>(w10) / static_cast<double>(std::max<std::size_t>(1, s.full_sums.size()));
}

void replay(benchmark::State& state, const Setup& s) {
  const double pct = static_cast<double>(state.range(0));
  const auto fit_weight = state.range(2);
  FewShotBudget budget;
  budget.percent = pct;
  const int count = budget_block_count(budget, s.blocks.size());
  std::unique_ptr<TransferredTable> t;
  std::vector<std::size_t> picks;
  for (auto _ : state) {
    const std::vector<bool> none(s.blocks.size(), false);
    if (state.range(1) >= 2) {  // the usage share to a power: heavier blocks first
      std::vector<double> w = s.fit_weights[0];
      for (double& x : w) x = std::pow(x, static_cast<double>(state.range(1)));
      picks = choose_blocks_k_center(s.points, none, count, w);
    } else {
      picks = state.range(1) == 1 ? choose_few_shot_blocks(s.blocks, s.points, none, count, s.usage)
                                  : choose_blocks_k_center(s.points, none, count);
    }
    std::unordered_map<std::string, double> measured;
    for (std::size_t i : picks) measured[s.blocks[i].key()] = s.target_ms.at(s.blocks[i].key());
    try {
      t = std::make_unique<TransferredTable>(
          transfer_table(s.blocks, s.points, measured,
                         fit_weight == 0 ? std::vector<double>{} : s.fit_weights[fit_weight - 1]));
    } catch (const Error& e) {
      // A budget under the transfer model's minimum (a small space) is a row of the sweep, not
      // the end of it: the command refuses it with the same message.
      state.SkipWithError(e.what());
      break;
    }
    benchmark::DoNotOptimize(t->ms.size());
  }
  if (!t) return;
  double wall = 0;
  for (std::size_t i : picks) wall += s.target_wall_ms.at(s.blocks[i].key());
  double sq = 0;
  int w10 = 0;
  for (const auto& key : t->predicted) {
    const double e = t->ms.at(key) / s.target_ms.at(key) - 1;
    sq += e * e;
    w10 += std::abs(e) <= 0.10;
  }
  const double n_pred = std::max<double>(1, static_cast<double>(t->predicted.size()));
  state.counters["measured"] = static_cast<double>(picks.size());
  state.counters["time_share"] = s.total_wall_ms > 0 ? wall / s.total_wall_ms : 0;
  state.counters["block_rmspe"] = std::sqrt(sq / n_pred);
  state.counters["block_w10"] = w10 / n_pred;
  state.counters["model_cv"] = t->model.cv_error();
  std::vector<double> sums, rel;
  int full_w10 = 0;
  for (std::size_t n = 0; n < s.measured.nets.size(); ++n) {
    sums.push_back(sum_of(s.measured.nets[n], t->ms));
    rel.push_back(sums.back() / s.full_sums[n] - 1);
    full_w10 += std::abs(rel.back()) <= 0.10;
  }
  const double nets = static_cast<double>(sums.size());
  std::vector<double> sorted = rel;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const double bias = sorted.empty() ? 0 : sorted[sorted.size() / 2];
  double spread = 0;
  for (double e : rel) spread += (e - bias) * (e - bias);
  state.counters["full_w10"] = full_w10 / nets;
  state.counters["full_bias"] = bias;
  state.counters["full_spread"] = std::sqrt(spread / nets);
  state.counters["full_tau"] = kendall_tau_b(sums, s.full_sums);
  if (!s.measured.e2e_ms.empty()) {
    std::vector<double> pred, ref;
    int e_w10 = 0, r_w10 = 0;
    double e_sq = 0;
    for (std::size_t n = 0; n < sums.size(); ++n) {
      pred.push_back(sums[n] + s.overhead_ms);
      ref.push_back(s.full_sums[n] + s.overhead_ms);
      const double e = pred.back() / s.measured.e2e_ms[n] - 1;
      e_sq += e * e;
      e_w10 += std::abs(e) <= 0.10;
      r_w10 += std::abs(ref.back() / s.measured.e2e_ms[n] - 1) <= 0.10;
    }
    state.counters["e2e_w10"] = e_w10 / nets;
    state.counters["e2e_tau"] = kendall_tau_b(pred, s.measured.e2e_ms);
    state.counters["e2e_rmspe"] = std::sqrt(e_sq / nets);
    state.counters["ref_e2e_w10"] = r_w10 / nets;
    state.counters["ref_e2e_tau"] = kendall_tau_b(ref, s.measured.e2e_ms);
  }
  if (!s.replicate_sums.empty()) {
    int r_w10 = 0;
    for (std::size_t n = 0; n < sums.size(); ++n)
      r_w10 += std::abs(s.replicate_sums[n] / s.full_sums[n] - 1) <= 0.10;
    state.counters["rep_tau"] = kendall_tau_b(s.replicate_sums, s.full_sums);
    state.counters["rep_w10"] = r_w10 / nets;
    state.counters["rep_few_shot_tau"] = kendall_tau_b(sums, s.replicate_sums);
    state.counters["rep_row_spread"] = s.replicate_row_spread;
  }
  if (!s.replicate_e2e_ms.empty()) {
    int r_w10 = 0;
    for (std::size_t n = 0; n < sums.size(); ++n)
      r_w10 += std::abs(s.replicate_e2e_ms[n] / s.measured.e2e_ms[n] - 1) <= 0.10;
    state.counters["rep_e2e_tau"] = kendall_tau_b(s.replicate_e2e_ms, s.measured.e2e_ms);
    state.counters["rep_e2e_w10"] = r_w10 / nets;
  }
  const ExpectedNetworkError ex = expected_network_error(s.measured.nets, *t, s.overhead_ms);
  state.counters["source_tau"] = s.source_tau;
  state.counters["oracle_tau"] = s.oracle_tau;
  state.counters["oracle_w10"] = s.oracle_w10;
  state.counters["oracle_rmspe"] = s.oracle_rmspe;
  state.counters["oracle_nn_corr"] = s.oracle_nn_corr;
  state.counters["expected_sd"] = ex.median_sd;
  state.counters["expected_w10"] = ex.within_10;
}

void register_benchmarks(Params& p) {
  const auto source = p.strings("source", {});
  const auto target = p.strings("target", {});
  const auto space_name = p.strings("space", {"efficientformer"});
  const auto validation = p.strings("validation", {});
  const auto replicate = p.strings("replicate", {});
  const auto replicate_validation = p.strings("replicate-validation", {});
  const auto budgets = p.ints("budget", {1, 2, 5, 10, 20});
  if (source.size() != 1 || target.size() != 1)
    throw std::invalid_argument("give --source=DB#DEVICE and --target=DB#DEVICE (full tables)");
  const SearchSpace& space = get_space(space_name.front());
  const auto resolution = p.ints("resolution", {default_resolution(space)}).front();
  auto s = std::make_shared<Setup>();
  s->blocks = space.enumerate_blocks(static_cast<int>(resolution));
  const auto src = rows_of(source.front());
  const auto tgt = rows_of(target.front());
  for (const auto& b : s->blocks) {
    const auto is = src.find(b.key());
    const auto it = tgt.find(b.key());
    if (is == src.end() || it == tgt.end())
      throw std::invalid_argument("block " + b.key() + " missing from a table");
    s->points.push_back(block_point(b, is->second.stats.median_ms));
    s->target_ms[b.key()] = it->second.stats.median_ms;
    // A backend that records no timing conditions (ONNX Runtime): the timed work alone.
    const TimingStats& ts = it->second.stats;
    const double wall = ts.conditions.wall_ms > 0 ? ts.conditions.wall_ms : ts.mean_ms * ts.repeats;
    s->target_wall_ms[b.key()] = wall;
    s->total_wall_ms += wall;
  }
  const FewShotSource t = parse_few_shot_source(target.front());
  s->overhead_ms = LutLatencyPredictor::open(t.db, t.device)->overhead_ms();
  if (!validation.empty()) {
    s->measured = read_validation_csv(space, validation.front());
  } else {
    Rng rng(1);
    for (int i = 0; i < 200; ++i)
      s->measured.nets.push_back(
          space.decode(sample_at_resolution(space, rng, static_cast<int>(resolution))));
  }
  for (const auto& net : s->measured.nets) s->full_sums.push_back(sum_of(net, s->target_ms));
  set_source_and_oracle(*s, src);
  if (!replicate_validation.empty()) {
    if (validation.empty())
      throw std::invalid_argument("--replicate-validation needs --validation");
    Measured again = read_validation_csv(space, replicate_validation.front());
    bool same = again.nets.size() == s->measured.nets.size();
    for (std::size_t n = 0; same && n < again.nets.size(); ++n)
      same = again.nets[n].blocks.size() == s->measured.nets[n].blocks.size() &&
             std::equal(again.nets[n].blocks.begin(), again.nets[n].blocks.end(),
                        s->measured.nets[n].blocks.begin(),
                        [](const BlockSpec& a, const BlockSpec& b) { return a.key() == b.key(); });
    if (!same)
      throw std::invalid_argument(replicate_validation.front() + " holds other archs than " +
                                  validation.front() + ": validate both with the same --seed");
    s->replicate_e2e_ms = std::move(again.e2e_ms);
  }
  if (!replicate.empty()) {
    std::unordered_map<std::string, double> rep_ms;
    for (const auto& [key, row] : rows_of(replicate.front())) rep_ms[key] = row.stats.median_ms;
    for (const auto& net : s->measured.nets) {
      for (const auto& b : net.blocks)
        if (!rep_ms.count(b.key()))
          throw std::invalid_argument("block " + b.key() + " missing from " + replicate.front());
      s->replicate_sums.push_back(sum_of(net, rep_ms));
    }
    std::vector<double> log_ratio;
    for (const auto& b : s->blocks)
      if (const auto it = rep_ms.find(b.key()); it != rep_ms.end() && it->second > 0)
        log_ratio.push_back(std::log(it->second / s->target_ms.at(b.key())));
    if (!log_ratio.empty()) {
      std::vector<double> sorted = log_ratio;
      std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
      const double mid = sorted[sorted.size() / 2];
      double sq = 0;
      for (double x : log_ratio) sq += (x - mid) * (x - mid);
      s->replicate_row_spread = std::sqrt(sq / static_cast<double>(log_ratio.size()));
    }
  }
  s->usage = usage_networks(space, static_cast<int>(resolution), 500, 2);
  {
    std::vector<double> source_ms;
    for (const auto& pt : s->points) source_ms.push_back(std::exp(pt.log_source_ms));
    s->fit_weights.push_back(usage_weights(s->blocks, source_ms, s->usage));
    s->fit_weights.push_back(few_shot_fit_weights(s->blocks, s->points, s->usage));
  }
  const auto weighted = p.ints("weighted", {0, 1});
  const auto fit_weight = p.ints("fit-weight", {2});
  for (auto w : weighted)
    if (w < 0) throw std::invalid_argument("--weighted: 0, 1 or a power >= 2");
  for (auto w : fit_weight)
    if (w < 0 || w > 2) throw std::invalid_argument("--fit-weight: 0, 1 or 2");
  benchmark::RegisterBenchmark("few_shot", [s](benchmark::State& st) { replay(st, *s); })
      ->ArgsProduct({budgets, weighted, fit_weight})
      ->ArgNames({"budget_pct", "weighted", "fit_weight"})
      ->Unit(benchmark::kMillisecond)
      ->Iterations(3);
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  return hwnas::bench::run(
      argc, argv,
      {"few_shot",
       "--source=DB#DEVICE --target=DB#DEVICE --space=NAME --resolution=N --validation=CSV "
       "--replicate=DB#DEVICE --replicate-validation=CSV --budget=PERCENTS --weighted=0,1",
       {},
       hwnas::bench::register_benchmarks});
}
