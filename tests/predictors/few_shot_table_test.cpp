// Few-shot tables: k-center selection by hand, the transfer model on a known law, and the whole
// `profile --few-shot` flow between two fake devices whose cost formulas differ (the target's
// full table, computed from its own formula, is the independent reference).
#include <gtest/gtest.h>

#include <cmath>
#include <mutex>
#include <set>

#include "core/error.h"
#include "predictors/block_selection.h"
#include "predictors/few_shot_table.h"
#include "predictors/latency_transfer.h"
#include "predictors/latency_validation.h"
#include "predictors/lut_latency_predictor.h"
#include "profilers/backend_registry.h"
#include "profilers/fake_backend.h"
#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

using test::error_of;

BlockPoint at(BlockKind kind, double log_ms) {
  BlockPoint p;
  p.kind = kind;
  p.log_source_ms = log_ms;
  return p;
}

// Three candidate blocks and two networks, [A, B] and [A, A]: C is used by none.
struct UsageCase {
  BlockSpec A = BlockSpec::parse("flatten:c=448,h=7,w=7");
  BlockSpec B = BlockSpec::parse("flatten:c=96,h=7,w=7");
  BlockSpec C = BlockSpec::parse("flatten:c=224,h=7,w=7");
  std::vector<Network> nets = {network_of({A, B}), network_of({A, A})};

  static Network network_of(std::vector<BlockSpec> blocks) {
    Network n;
    n.blocks = std::move(blocks);
    return n;
  }
};

TEST(FewShotBudget, ParsesCountsAndPercentages) {
  EXPECT_EQ(parse_few_shot_budget("46").blocks, 46);
  EXPECT_DOUBLE_EQ(parse_few_shot_budget("5%").percent, 5.0);
  // By hand: 5 % of 927 blocks is 46.35, rounded up.
  EXPECT_EQ(budget_block_count(parse_few_shot_budget("5%"), 927), 47);
  EXPECT_EQ(budget_block_count(parse_few_shot_budget("100%"), 927), 927);
  EXPECT_EQ(budget_block_count(parse_few_shot_budget("2000"), 927), 927);
  for (const char* bad : {"0", "-3", "abc", "5x", "0%", "150%", "%", ""})
    EXPECT_NE(error_of([&] { parse_few_shot_budget(bad); }).find("--budget"), std::string::npos)
        << bad;
  EXPECT_EQ(parse_few_shot_source("a.db#dev").device, "dev");
  EXPECT_EQ(parse_few_shot_source("dir#1/a.db").db, "dir");  // the last '#' splits
  EXPECT_TRUE(parse_few_shot_source("a.db").device.empty());
  EXPECT_NE(error_of([] { parse_few_shot_source("a.db#"); }).find("empty device"),
            std::string::npos);
}

TEST(BlockSelection, CoversKindsFirstThenTheFarthestBlock) {
  const BlockKind a = BlockKind::meta4d, b = BlockKind::meta3d;
  // Kind a on a line at log ms 0, 1, 2, 3, 10; kind b at 0.5 and 4.
  const std::vector<BlockPoint> pts = {at(a, 0),  at(a, 1),   at(a, 2), at(a, 3),
                                       at(a, 10), at(b, 0.5), at(b, 4)};
  // Nothing measured: the slowest block of each kind first (10, then b's 4).
  EXPECT_EQ(choose_blocks_k_center(pts, std::vector<bool>(7, false), 2),
            (std::vector<std::size_t>{4, 6}));
  // Kind a's block at 0 measured, b covered: by hand, distances in units of the standardised
  // log ms: 10 is farthest from 0; then from {0, 10}: 3 (3 vs 1, 2); then 1 and 2 tie at 1: the
  // lower index; b's 0.5 is 3.5 from b's 4, so it comes second.
  std::vector<bool> measured = {true, false, false, false, false, false, true};
  const auto picks = choose_blocks_k_center(pts, measured, 4);
  EXPECT_EQ(picks, (std::vector<std::size_t>{4, 5, 3, 1}));
  // A larger budget later extends the same sequence.
  for (std::size_t i : {4, 5}) measured[i] = true;
  EXPECT_EQ(choose_blocks_k_center(pts, measured, 2), (std::vector<std::size_t>{3, 1}));
  EXPECT_EQ(choose_blocks_k_center(pts, std::vector<bool>(7, true), 3).size(), 0u);
  EXPECT_NE(error_of([&] { choose_blocks_k_center(pts, {true}, 1); }).find("measured flags"),
            std::string::npos);
}

TEST(BlockSelection, WeightsTradeDistanceForHowMuchABlockMatters) {
  const BlockKind a = BlockKind::meta4d;
  const std::vector<BlockPoint> pts = {at(a, 0), at(a, 1), at(a, 2), at(a, 3), at(a, 10)};
  const std::vector<bool> measured = {true, false, false, false, false};
  // By hand, weight x distance from {0}: 1, 2, 3 and 0.01 x 10 = 0.1: 3 first; then from {0, 3}
  // 1 and 2 tie at 1 (the lower index), 10 scores 0.07.
  EXPECT_EQ(choose_blocks_k_center(pts, measured, 2, {1, 1, 1, 1, 0.01}),
            (std::vector<std::size_t>{3, 1}));
  EXPECT_EQ(choose_blocks_k_center(pts, measured, 2), (std::vector<std::size_t>{4, 3}));
  EXPECT_NE(error_of([&] {
              choose_blocks_k_center(pts, measured, 1, {1, 1});
            }).find("weights"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              choose_blocks_k_center(pts, measured, 1, {1, 1, -1, 1, 1});
            }).find(">= 0"),
            std::string::npos);

  // Usage: networks [A, B] and [A, A] with A 1 ms and B 3 ms: A carries 1/4 and 2/2, B 3/4 and
  // nothing: A 0.625, B 0.375 on average; C, unused, 1e-3 of the mean weight (1/3).
  const UsageCase u;
  const BlockSpec &A = u.A, &B = u.B, &C = u.C;
  const auto w = usage_weights({A, B, C}, {1.0, 3.0, 2.0}, u.nets);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_DOUBLE_EQ(w[0], 0.625);
  EXPECT_DOUBLE_EQ(w[1], 0.375);
  EXPECT_NEAR(w[2], 1e-3 / 3, 1e-15);
  Network n3;
  n3.blocks = {BlockSpec::parse("flatten:c=32,h=7,w=7")};
  EXPECT_NE(error_of([&] {
              usage_weights({A, B, C}, {1.0, 3.0, 2.0}, {n3});
            }).find("not a candidate"),
            std::string::npos);
}

TEST(FewShotTable, FitWeightsAreTheRootOfTheUsageShareAndNoUsageMeansEqualWeights) {
  // The usage test's networks: A carries 0.625 of a network's latency on average, B 0.375, and
  // C, unused, 1e-3 of the mean (1/3). The fit weights are their square roots, by hand 0.7906,
  // 0.6124 and 0.01826; with no networks to weigh by, none (equal weights).
  const UsageCase u;
  const std::vector<BlockPoint> pts = {at(BlockKind::flatten, std::log(1.0)),
                                       at(BlockKind::flatten, std::log(3.0)),
                                       at(BlockKind::flatten, std::log(2.0))};
  const auto w = few_shot_fit_weights({u.A, u.B, u.C}, pts, u.nets);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_NEAR(w[0], 0.790569, 1e-6);
  EXPECT_NEAR(w[1], 0.612372, 1e-6);
  EXPECT_NEAR(w[2], 0.0182574, 1e-7);
  EXPECT_TRUE(few_shot_fit_weights({u.A, u.B, u.C}, pts, {}).empty());
  // The choice weighs by the same usage. By hand: weighted, A (the largest weight) covers the
  // kind first, then B (0.375 x 1.10 in log ms) before C (3e-4 x 0.69); with no networks it is
  // plain k-center, which covers the kind with B (the largest source latency), then A
  // (farthest from B), then C.
  const std::vector<bool> none(3, false);
  EXPECT_EQ(choose_few_shot_blocks({u.A, u.B, u.C}, pts, none, 3, u.nets),
            (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(choose_few_shot_blocks({u.A, u.B, u.C}, pts, none, 3, {}),
            (std::vector<std::size_t>{1, 0, 2}));
  // Where plain k-center and zero usage part: log ms 2.5, 0, 3, 2. By hand, k-center takes 3
  // (the largest), then 0 (farthest), then 2 (1.0 from its nearest) before 2.5 (0.5).
  const std::vector<BlockPoint> four = {at(BlockKind::flatten, 2.5), at(BlockKind::flatten, 0),
                                        at(BlockKind::flatten, 3), at(BlockKind::flatten, 2)};
  const BlockSpec D = BlockSpec::parse("flatten:c=32,h=7,w=7");
  EXPECT_EQ(choose_few_shot_blocks({u.A, u.B, u.C, D}, four, std::vector<bool>(4, false), 4, {}),
            (std::vector<std::size_t>{2, 1, 3, 0}));
}

TEST(LatencyTransfer, RecoversAPerKindPowerLaw) {
  // Target = 1.3 * source^0.9 for meta4d, 2.1 * source^0.8 for meta3d: inside the model's
  // family, so the fit is near exact (the ridge shrinks the per-kind terms a little).
  std::vector<TransferSample> samples;
  auto truth = [](const BlockPoint& p) {
    return p.kind == BlockKind::meta4d ? 1.3 * std::exp(0.9 * p.log_source_ms)
                                       : 2.1 * std::exp(0.8 * p.log_source_ms);
  };
  for (int i = 0; i < 12; ++i)
    for (BlockKind k : {BlockKind::meta4d, BlockKind::meta3d}) {
      BlockPoint p = at(k, -3.0 + 0.5 * i);
      samples.push_back({p, truth(p)});
    }
  const LatencyTransfer m = LatencyTransfer::fit(samples);
  for (double x : {-2.7, 0.1, 2.4})
    for (BlockKind k : {BlockKind::meta4d, BlockKind::meta3d})
      EXPECT_NEAR(m.predict_ms(at(k, x)) / truth(at(k, x)), 1.0, 0.01) << x;
  EXPECT_LT(m.cv_error(), 0.01);
  EXPECT_EQ(m.samples(BlockKind::meta4d), 12);
  EXPECT_EQ(m.samples(BlockKind::stem), 0);
  EXPECT_NE(error_of([&] {
              LatencyTransfer::fit({samples[0], samples[1]});
            }).find("at least 3"),
            std::string::npos);
}

TEST(LatencyTransfer, ThreeBlocksOfNearlyOneSizeKeepProportionalScaling) {
  // Target = 0.5 x source, measured with +-4 % noise on three blocks whose source latencies lie
  // within 4 % of each other, as a 5 % budget of a small space picks (efficientformer-fmnist:
  // 3 of 51 blocks). A slope fitted through them is the noise over a tiny range: by hand, each
  // end block held out is predicted from a line of slope 4 through the other two, 15 % off, and
  // the middle one 8 % off (RMS 13 %). Shrunk towards proportional scaling, the slope stays near
  // 1 and the held-out error near the noise's 4-8 %.
  const std::vector<TransferSample> samples = {
      {at(BlockKind::meta4d, -1.00), 0.5 * std::exp(-1.00) * 1.04},
      {at(BlockKind::meta4d, -0.98), 0.5 * std::exp(-0.98) * 0.96},
      {at(BlockKind::meta4d, -0.96), 0.5 * std::exp(-0.96) * 1.04}};
  const LatencyTransfer m = LatencyTransfer::fit(samples);
  EXPECT_LT(m.cv_error(), 0.09);
  EXPECT_NEAR(m.to_json()["shared"]["b"].get<double>(), 1.0, 0.5);
  // A block 20x slower on the source is predicted at the samples' ratio, within their noise.
  EXPECT_NEAR(m.predict_ms(at(BlockKind::meta4d, 2.0)) / (0.5 * std::exp(2.0)), 1.0, 0.05);
}

TEST(LatencyTransfer, WeightsDecideWhichSamplesTheFitFollows) {
  // Four blocks of one kind at 0.5x on the target, and one in the middle at 0.8x. Fitted with
  // equal weights, the free offset is the mean log ratio: by hand 0.5 * 1.6^(1/5) = 0.55 at the
  // middle (+10 %), whatever the penalty does with the rest. Weighted 100:1 against the odd
  // block, the offset moves to 0.5 * 1.6^(1/401) (+0.1 %). Both are the fit's median, before
  // predict_ms raises it to the mean (PredictsTheMeanRowNotTheMedianSoSumsAreUnbiased).
  auto median_ratio = [](const LatencyTransfer& m) {
    const double sigma = m.log_sigma(BlockKind::meta4d);
    return m.predict_ms(at(BlockKind::meta4d, 0.1)) / (0.5 * std::exp(0.1)) /
           std::exp(sigma * sigma / 2);
  };
  std::vector<TransferSample> samples;
  for (double x : {-2.0, -1.0, 1.0, 2.0})
    samples.push_back({at(BlockKind::meta4d, x), 0.5 * std::exp(x)});
  samples.push_back({at(BlockKind::meta4d, 0.0), 0.8});
  EXPECT_GT(median_ratio(LatencyTransfer::fit(samples)), 1.05);
  // Equal weights of any size are the same fit, penalty included: they are scaled to a mean
  // of 1.
  std::vector<TransferSample> scaled = samples;
  for (auto& s : scaled) s.weight = 7.5;
  EXPECT_EQ(LatencyTransfer::fit(scaled).to_json().dump(),
            LatencyTransfer::fit(samples).to_json().dump());
  std::vector<TransferSample> weighted = samples;
  for (auto& s : weighted) s.weight = 100;
  weighted.back().weight = 1;
  EXPECT_NEAR(median_ratio(LatencyTransfer::fit(weighted)), 1.0, 0.02);
  weighted.back().weight = 0;
  EXPECT_NE(error_of([&] { LatencyTransfer::fit(weighted); }).find("weight"), std::string::npos);
}

TEST(LatencyTransfer, PredictsTheMeanRowNotTheMedianSoSumsAreUnbiased) {
  // Sixteen blocks at 0.5x on the target, each off by a factor exp(+-0.2) in turn, which no
  // term of the model can follow. By hand, the mean of their ratios is 0.5 cosh(0.2) = 0.5 *
  // 1.0201 while the fit in log space gives the median, 0.5: a network summing such rows would
  // run 2 % low. The model predicts the mean, within the spread of its leave-one-out estimate.
  std::vector<TransferSample> samples;
  for (int i = 0; i < 16; ++i) {
    const double x = -2.0 + 0.25 * i;
    samples.push_back({at(BlockKind::meta4d, x), 0.5 * std::exp(x) * std::exp(i % 2 ? 0.2 : -0.2)});
  }
  const LatencyTransfer m = LatencyTransfer::fit(samples);
  for (double x : {-1.3, 0.4, 1.1})
    EXPECT_NEAR(m.predict_ms(at(BlockKind::meta4d, x)) / (0.5 * std::exp(x)), std::cosh(0.2), 0.01)
        << x;
}

TEST(LatencyTransfer, APositionsTermFollowsARatioSetByTheRowCount) {
  // fp32 -> int8 on the Zen 3 (bench/README.md, "Output positions in the transfer model"): a
  // product of few rows is mostly per-call cost, which the int8 kernel does not pay, so the
  // int8 / fp32 ratio rises with the block's output positions h * w (0.40-0.48 for meta3d at
  // 2 x 2, 1.0-1.15 for the stem at 64 x 64), whatever the block's source latency. Here the
  // ratio is 0.45 exp(0.15 (log(1 + hw) - log 5)): 0.45 at 4 positions, 1.0 at 1024. Sources
  // are drawn apart from positions, and the other size terms are constant, so only the
  // positions term can follow the ratio; without it the fit is one ratio, up to 40 % off.
  auto truth = [](const BlockPoint& p) {
    return std::exp(p.log_source_ms) * 0.45 * std::exp(0.15 * (p.log_positions - std::log(5.0)));
  };
  auto point = [](double log_ms, int positions) {
    BlockPoint p = at(BlockKind::meta4d, log_ms);
    p.log_positions = std::log1p(static_cast<double>(positions));
    return p;
  };
  const int positions[] = {4, 16, 64, 256, 1024};
  std::vector<TransferSample> samples;
  for (int i = 0; i < 10; ++i) {
    const BlockPoint p = point(-2.0 + 0.37 * ((i * 3) % 10), positions[i % 5]);
    samples.push_back({p, truth(p)});
  }
  const LatencyTransfer m = LatencyTransfer::fit(samples);
  for (const auto& [x, hw] : {std::pair{-1.1, 8}, std::pair{0.6, 128}, std::pair{-0.3, 700}})
    EXPECT_NEAR(m.predict_ms(point(x, hw)) / truth(point(x, hw)), 1.0, 0.03) << hw;
  EXPECT_LT(m.cv_error(), 0.03);
  EXPECT_EQ(m.to_json()["size_coef"].size(), 4U);
}

TEST(LatencyTransfer, AVariantOffsetRecoversWhatSizesDoNotShow) {
  // Two variants of one kind at the same sizes: the pooled-query block runs 1.25x the ratio of
  // the plain one on the target, and the usage-weighted choice measured few of them (4 of 16),
  // as on ONNX Runtime's Hiera rows (bench/README.md). Without the variant the kind's one
  // scaling sits between them, 11-15 % off the pooled-query blocks.
  auto truth = [](const BlockPoint& p) {
    return (p.variant == "hiera_block:mu=0,qpool=1" ? 1.25 : 1.0) * 1.4 *
           std::exp(0.9 * p.log_source_ms);
  };
  auto point = [](int qpool, double log_ms) {
    BlockPoint p = at(BlockKind::hiera_block, log_ms);
    p.variant = "hiera_block:mu=0,qpool=" + std::to_string(qpool);
    return p;
  };
  std::vector<TransferSample> samples, kind_only;
  for (int i = 0; i < 12; ++i) samples.push_back({point(0, -2.0 + 0.4 * i), 0});
  for (int i = 0; i < 4; ++i) samples.push_back({point(1, -1.5 + 1.1 * i), 0});
  for (auto& s : samples) {
    s.target_ms = truth(s.point);
    kind_only.push_back(s);
    kind_only.back().point.variant.clear();
  }
  const LatencyTransfer m = LatencyTransfer::fit(samples);
  const LatencyTransfer k = LatencyTransfer::fit(kind_only);
  for (double x : {-1.8, 0.3, 2.0}) {
    EXPECT_NEAR(m.predict_ms(point(1, x)) / truth(point(1, x)), 1.0, 0.03) << x;
    EXPECT_NEAR(m.predict_ms(point(0, x)) / truth(point(0, x)), 1.0, 0.03) << x;
    BlockPoint pooled = point(1, x);
    const double truth_pooled = truth(pooled);
    pooled.variant.clear();
    EXPECT_LT(k.predict_ms(pooled) / truth_pooled, 0.9) << x;
  }
  const nlohmann::json j = m.to_json();
  EXPECT_EQ(j["model"], "ridge-log-transfer-v6");
  EXPECT_EQ(j["per_variant"]["hiera_block:mu=0,qpool=1"]["samples"], 4);
  EXPECT_TRUE(k.to_json()["per_variant"].empty());
}

// A second fake device: compute 3x faster, memory as fast, a larger fixed cost per block, and
// its own jitter. Its block/source ratios thus depend on each block's MAC/byte balance.
FakeBackendOptions target_options() {
  FakeBackendOptions o;
  o.seed = 2;
  o.macs_per_ms = 6.0e7;
  o.base_ms = 0.004;
  return o;
}

void register_target_backend() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_backend("fake-fewshot-target", [](const BackendSpec&) {
      return std::make_unique<FakeBackend>(target_options());
    });
  });
}

struct Tables {
  std::string dir, source, target;
};

// The source device's full table (fake, seed 1) in its own file.
Tables make_source() {
  Tables t;
  t.dir = test::make_temp_dir("fewshot");
  t.source = t.dir + "/source.db";
  t.target = t.dir + "/target.db";
  LatencyTable table(t.source, LatencyTable::Mode::read_write);
  FakeBackendOptions o;
  o.seed = 1;
  FakeBackend fake(o);
  ProfileOptions po;
  po.device_name = "src";
  po.overhead_networks = 0;
  profile_space(get_space("efficientformer"), 224, table, fake, po);
  return t;
}

ProfileRunConfig target_config(const Tables& t) {
  register_target_backend();
  ProfileRunConfig c;
  c.space = "efficientformer";
  c.db = t.target;
  c.device = "new";
  c.backend = "fake-fewshot-target";
  c.block_timing = "cold-weights";
  c.options.overhead_networks = 3;
  return c;
}

TEST(FewShotTable, FivePercentOfTheBlocksPredictsTheRestAndWholeNetworks) {
  const Tables t = make_source();
  FewShotConfig fs;
  fs.source = parse_few_shot_source(t.source + "#src");
  fs.budget = parse_few_shot_budget("5%");
  fs.error_networks = 100;
  const FewShotReport rep = run_few_shot_profile(target_config(t), fs);
  const auto blocks = get_space("efficientformer").enumerate_blocks(224);
  ASSERT_EQ(rep.blocks_total, static_cast<int>(blocks.size()));
  EXPECT_EQ(rep.budget_blocks, budget_block_count(fs.budget, blocks.size()));
  EXPECT_EQ(rep.profile.blocks_measured, rep.budget_blocks);
  EXPECT_EQ(rep.measured, rep.budget_blocks);
  EXPECT_EQ(rep.predicted, rep.blocks_total - rep.measured);
  EXPECT_EQ(rep.source, t.source + "#src");

  LatencyTable table(t.target, LatencyTable::Mode::read_only);
  const auto rows = table.rows("new");
  ASSERT_EQ(rows.size(), blocks.size());
  std::set<BlockKind> kinds, measured_kinds;
  for (const auto& b : blocks) kinds.insert(b.kind);
  const FakeBackend truth(target_options());
  double worst = 0;
  for (const auto& r : rows) {
    const BlockSpec b = BlockSpec::parse(r.key);
    if (r.origin == RowOrigin::measured) {
      measured_kinds.insert(b.kind);
      EXPECT_DOUBLE_EQ(r.stats.median_ms, truth.block_ms(b));
    } else {
      EXPECT_GT(r.predicted_error, 0);
      EXPECT_NE(r.predicted_by.find(t.source + "#src"), std::string::npos);
      worst = std::max(worst, std::abs(r.stats.median_ms / truth.block_ms(b) - 1));
    }
  }
  EXPECT_EQ(measured_kinds, kinds);  // every kind measured at least once
  // Both devices jitter their blocks by +-5 % independently: a ratio is off by up to ~10 % on
  // its own; the model's smooth law adds its misfit of the MAC/byte balance.
  EXPECT_LT(worst, 0.25);
  const auto cal = table.calibration("new", "few_shot:efficientformer");
  ASSERT_TRUE(cal);
  EXPECT_EQ(cal->at("measured"), rep.measured);
  EXPECT_TRUE(cal->contains("expected_error"));

  // End to end: the few-shot table's sums against the target's own block sums (its full
  // table), over networks the report did not see: the issue's target, +-10 % for >= 95 %.
  const auto lut = LutLatencyPredictor::open(t.target, "new");
  const SearchSpace& space = get_space("efficientformer");
  Rng rng(777);
  std::vector<double> pred, full;
  int within = 0;
  double sq = 0;
  for (int i = 0; i < 200; ++i) {
    const Network net = space.decode(sample_at_resolution(space, rng, 224));
    double sum = 0;
    for (const auto& b : net.blocks) sum += truth.block_ms(b);
    pred.push_back(lut->predict_sum_ms(net) - lut->overhead_ms());
    full.push_back(sum);
    const double e = pred.back() / sum - 1;
    within += std::abs(e) <= 0.10;
    sq += e * e;
  }
  const double rms = std::sqrt(sq / 200);
  EXPECT_GE(within, 190) << "rms " << rms;
  EXPECT_GE(kendall_tau_b(pred, full), 0.95);
  // The expected error is of the right size: the actual RMS error is within 3x of it.
  EXPECT_GT(rms, rep.expected.median_sd / 3) << rep.expected.median_sd;
  EXPECT_LT(rms, rep.expected.median_sd * 3) << rep.expected.median_sd;
}

TEST(FewShotTable, ALargerBudgetMeasuresOnlyTheDifferenceAndAPlainProfileMeasuresTheRest) {
  const Tables t = make_source();
  FewShotConfig fs;
  fs.source = parse_few_shot_source(t.source);  // the file's only device
  fs.budget = parse_few_shot_budget("2%");
  fs.error_networks = 10;
  const ProfileRunConfig c = target_config(t);
  const FewShotReport first = run_few_shot_profile(c, fs);
  std::map<std::string, std::string> measured_at;
  for (const auto& r : LatencyTable(t.target, LatencyTable::Mode::read_only).rows("new"))
    if (r.origin == RowOrigin::measured) measured_at[r.key] = r.measured_at;
  ASSERT_EQ(static_cast<int>(measured_at.size()), first.measured);

  fs.budget = parse_few_shot_budget("5%");
  const FewShotReport second = run_few_shot_profile(c, fs);
  EXPECT_EQ(second.measured_before, first.measured);
  EXPECT_EQ(second.profile.blocks_measured, second.budget_blocks - first.measured);
  EXPECT_EQ(second.measured, second.budget_blocks);
  int kept = 0;
  for (const auto& r : LatencyTable(t.target, LatencyTable::Mode::read_only).rows("new"))
    if (measured_at.count(r.key)) {
      EXPECT_EQ(r.origin, RowOrigin::measured) << r.key;
      kept += r.measured_at == measured_at[r.key];
    }
  EXPECT_EQ(kept, first.measured);  // nothing measured before was measured again or lost

  // The same budget again measures nothing and refits the same model.
  const FewShotReport third = run_few_shot_profile(c, fs);
  EXPECT_EQ(third.profile.blocks_measured, 0);
  EXPECT_DOUBLE_EQ(third.cv_error, second.cv_error);

  // A plain profile of the device measures exactly the predicted rows.
  const ProfileReport full = run_profile(c);
  EXPECT_EQ(full.blocks_measured, second.predicted);
  LatencyTable table(t.target, LatencyTable::Mode::read_only);
  EXPECT_EQ(table.measured_keys("new").size(), table.keys("new").size());
}

TEST(FewShotTable, BadSourcesAndBudgetsAreClearErrors) {
  const Tables t = make_source();
  FewShotConfig fs;
  fs.budget = parse_few_shot_budget("5%");
  fs.source = parse_few_shot_source(t.dir + "/nowhere.db");
  EXPECT_NE(error_of([&] { run_few_shot_profile(target_config(t), fs); }).find("does not exist"),
            std::string::npos);
  fs.source = parse_few_shot_source(t.source + "#gpu");
  const std::string e1 = error_of([&] { run_few_shot_profile(target_config(t), fs); });
  EXPECT_NE(e1.find("'gpu' is not in"), std::string::npos) << e1;
  // A source profiled for another space lacks the blocks.
  ProfileRunConfig other = target_config(t);
  other.space = "elasticvit";
  other.resolution = 128;
  fs.source = parse_few_shot_source(t.source + "#src");
  const std::string e2 = error_of([&] { run_few_shot_profile(other, fs); });
  EXPECT_NE(e2.find("lacks"), std::string::npos) << e2;
  EXPECT_NE(e2.find("hwnas profile --space elasticvit"), std::string::npos) << e2;
  fs.budget = parse_few_shot_budget("2");
  const std::string e3 = error_of([&] { run_few_shot_profile(target_config(t), fs); });
  EXPECT_NE(e3.find("at least 3"), std::string::npos) << e3;
  // The source device itself as the target.
  ProfileRunConfig self = target_config(t);
  self.db = t.source;
  self.device = "src";
  fs.budget = parse_few_shot_budget("5%");
  const std::string e4 = error_of([&] { run_few_shot_profile(self, fs); });
  EXPECT_NE(e4.find("is the device being profiled"), std::string::npos) << e4;
}

}  // namespace
}  // namespace hwnas
