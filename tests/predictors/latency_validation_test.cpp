// Validation metrics against hand computations, and validate_latency on the fake device.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "predictors/latency_validation.h"
#include "profilers/device_speed.h"
#include "profilers/fake_backend.h"
#include "profilers/profiler.h"
#include "spaces/registry.h"
#include "tests/support/forwarding_backend.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

TEST(ValidationMetrics, MatchHandComputation) {
  const std::vector<double> meas = {10, 20, 30, 40};
  const std::vector<double> pred = {10.4, 21.5, 19.8, 41};
  const auto m = accuracy_metrics(meas, pred);
  // Errors 0.4, 1.5, -10.2, 1.0 ms; relative 0.04, 0.075, 0.34, 0.025.
  EXPECT_EQ(m.samples, 4);
  EXPECT_NEAR(m.rmse_ms, std::sqrt((0.16 + 2.25 + 104.04 + 1.0) / 4), 1e-12);
  EXPECT_NEAR(m.rmspe, std::sqrt((0.0016 + 0.005625 + 0.1156 + 0.000625) / 4), 1e-12);
  EXPECT_DOUBLE_EQ(m.within_5pct, 0.5);
  EXPECT_DOUBLE_EQ(m.within_10pct, 0.75);
  // Pairs: only (20,30) vs (21.5,19.8) is discordant: (5 - 1) / 6.
  EXPECT_NEAR(m.kendall_tau, 4.0 / 6.0, 1e-12);
  EXPECT_THROW(accuracy_metrics({1}, {1}), Error);
  EXPECT_THROW(accuracy_metrics({1, 0}, {1, 1}), Error);
}

TEST(ValidationMetrics, SpearmanRhoByHand) {
  // Ranks of pred {10.4, 21.5, 19.8, 41}: 1 3 2 4 against 1 2 3 4: d^2 = 0+1+1+0 = 2,
  // rho = 1 - 6*2 / (4 * 15) = 0.8.
  EXPECT_NEAR(spearman_rho({10.4, 21.5, 19.8, 41}, {10, 20, 30, 40}), 0.8, 1e-12);
  EXPECT_NEAR(accuracy_metrics({10, 20, 30, 40}, {10.4, 21.5, 19.8, 41}).spearman_rho, 0.8, 1e-12);
  // Ties share the average rank: {1, 2, 2, 3} -> ranks 1, 2.5, 2.5, 4; against 1 2 3 4 the
  // Pearson correlation of the ranks is 4.5 / sqrt(4.5 * 5) = 0.9487.
  EXPECT_NEAR(spearman_rho({1, 2, 2, 3}, {1, 2, 3, 4}), 4.5 / std::sqrt(4.5 * 5.0), 1e-12);
  EXPECT_NEAR(spearman_rho({4, 3, 2, 1}, {1, 2, 3, 4}), -1.0, 1e-12);
  EXPECT_EQ(spearman_rho({1, 1, 1}, {1, 2, 3}), 0.0);
  EXPECT_THROW(spearman_rho({1, 2}, {1}), Error);
}

TEST(ValidationMetrics, PearsonRByHand) {
  // {1, 2, 4} against {1, 3, 2}: means 7/3 and 2; deviations (-4/3, -1/3, 5/3) and (-1, 1, 0);
  // sum of products 4/3 - 1/3 = 1, sums of squares 42/9 and 2: r = 1 / sqrt(42 / 9 * 2).
  EXPECT_NEAR(pearson_r({1, 2, 4}, {1, 3, 2}), 1.0 / std::sqrt(42.0 / 9.0 * 2.0), 1e-12);
  EXPECT_NEAR(pearson_r({1, 2, 3}, {-2, -4, -6}), -1.0, 1e-12);
  EXPECT_EQ(pearson_r({5, 5, 5}, {1, 2, 3}), 0.0);
  EXPECT_THROW(pearson_r({1, 2}, {1}), Error);
}

TEST(ValidationMetrics, RegimeFollowsTheWindowAgreement) {
  AccuracyMetrics m;
  m.within_5pct = 0.95;
  EXPECT_EQ(host_regime(m), "quiet");
  m.within_5pct = 0.94;
  EXPECT_EQ(host_regime(m), "noisy");
  EXPECT_EQ(host_regime(std::nullopt), "unknown");
}

TEST(ValidationMetrics, ACorrectionFittedInNoiseIsWarnedOf) {
  ValidationReport r;
  EXPECT_FALSE(noisy_fit_warning(r).has_value());  // nothing fitted, regime unknown
  std::vector<LatencyFeatures> f(3);
  for (int i = 0; i < 3; ++i) f[i].plain_ms = i + 1.0;
  r.fitted = LatencyCorrection::fit(f, {1.1, 2.2, 3.3});
  EXPECT_FALSE(noisy_fit_warning(r).has_value());  // no windows: unknown
  r.repeatability = AccuracyMetrics{};
  r.repeatability->within_5pct = 0.468;
  const auto w = noisy_fit_warning(r);
  ASSERT_TRUE(w.has_value());
  EXPECT_NE(w->find("noisy (47 %"), std::string::npos) << *w;
  EXPECT_NE(w->find("quiet stretch"), std::string::npos) << *w;
  r.repeatability->within_5pct = 0.95;
  EXPECT_FALSE(noisy_fit_warning(r).has_value());  // quiet
  r.repeatability->within_5pct = 0.5;
  r.fitted.reset();
  EXPECT_FALSE(noisy_fit_warning(r).has_value());  // noisy, but a stored correction applied
}

TEST(ValidationMetrics, TheNoisyHostRuleJudgesTheTablesOwnPredictor) {
  // A hand-made report on a noisy host whose windows disagree by 10 % RMSPE.
  ValidationReport r;
  r.plain.samples = 2;
  r.plain.rmspe = 0.20;
  r.repeatability = AccuracyMetrics{};
  r.repeatability->rmspe = 0.10;
  r.repeatability->within_5pct = 0.5;
  auto rule = [&] { return validation_summary_json(r)["noisy_host_rule"]; };
  EXPECT_EQ(rule(), "fails");  // plain sum only: 2.0
  r.corrected = r.plain;
  r.corrected->rmspe = 0.05;
  EXPECT_EQ(rule(), "holds");  // the corrected table: 0.5
  // L1's single drift is reported, not judged: its calibration of the plain sum is ignored.
  r.speed_calibrated = r.plain;
  r.speed_calibrated->rmspe = 0.30;
  r.drift = 0.02;
  EXPECT_EQ(rule(), "holds");
  EXPECT_TRUE(validation_summary_json(r)["calibrated_noise_ratio"].is_null());
  // With the space's reference, the corrected table is judged calibrated per group.
  r.space_drift = 0.1;
  r.speed_calibrated_corrected = r.plain;
  r.speed_calibrated_corrected->rmspe = 0.15;
  EXPECT_EQ(rule(), "fails");
  EXPECT_NEAR(validation_summary_json(r)["calibrated_noise_ratio"].get<double>(), 1.5, 1e-12);
  EXPECT_TRUE(validation_summary_json(r)["anchored_noise_ratio"].is_null());
  // Anchored to the space's reference, the corrected table is judged so; the calibrated ratio is
  // still reported. Anchoring the plain sum alone does not judge a corrected table.
  r.reference_anchored = r.plain;
  EXPECT_EQ(rule(), "fails");
  r.reference_anchored_corrected = r.plain;
  r.reference_anchored_corrected->rmspe = 0.08;
  EXPECT_EQ(rule(), "holds");
  EXPECT_NEAR(validation_summary_json(r)["anchored_noise_ratio"].get<double>(), 0.8, 1e-12);
  EXPECT_NEAR(validation_summary_json(r)["calibrated_noise_ratio"].get<double>(), 1.5, 1e-12);
  r.repeatability->within_5pct = 0.95;  // quiet: the rule does not apply
  EXPECT_TRUE(rule().is_null());
}

TEST(ValidationMetrics, ResidualsFindTheKindWhoseRowsAreOff) {
  // Networks of meta4d and meta3d blocks whose true in-network times are known; the table's
  // meta3d rows are 10 % high and its meta4d rows exact, the overhead exact.
  const auto m4 = static_cast<std::size_t>(BlockKind::meta4d);
  const auto m3 = static_cast<std::size_t>(BlockKind::meta3d);
  std::vector<LatencyFeatures> feats;
  std::vector<double> meas;
  for (int i = 0; i < 12; ++i) {
    const double t4 = 2.0 + 0.5 * i, t3 = 1.0 + 0.3 * ((i * 7) % 5), overhead = 0.05;
    LatencyFeatures f;
    f.kind_ms[m4] = t4;
    f.kind_ms[m3] = 1.10 * t3;
    f.kind_count[m4] = 3 + i % 2;
    f.kind_count[m3] = 2;
    f.plain_ms = f.kind_ms[m4] + f.kind_ms[m3] + overhead;
    feats.push_back(f);
    meas.push_back(t4 + t3 + overhead);
  }
  const auto r = residuals_by_kind(feats, meas);
  ASSERT_EQ(r.size(), 3u);         // meta4d, meta3d, overhead
  EXPECT_EQ(r[0].kind, "meta3d");  // the largest contribution comes first
  // Noise-free data: the fit recovers e = 0.10 up to the ridge's pull toward 0.
  EXPECT_NEAR(r[0].relative_error, 0.10, 0.002);
  for (const auto& k : r)
    if (k.kind != "meta3d") {
      EXPECT_NEAR(k.relative_error, 0.0, 0.002) << k.kind;
    }
  // Its contribution is the mean of 0.1 t3 / meas, the whole mean relative residual.
  double mean_rel = 0;
  for (std::size_t i = 0; i < feats.size(); ++i)
    mean_rel += (feats[i].plain_ms - meas[i]) / meas[i];
  EXPECT_NEAR(r[0].contribution, mean_rel / 12, 2e-4);
  EXPECT_NEAR(r[0].mean_blocks, 2.0, 1e-12);
  EXPECT_THROW(residuals_by_kind({feats[0]}, {meas[0]}), Error);
  EXPECT_THROW(residuals_by_kind(feats, {1.0}), Error);
}

TEST(ValidationMetrics, KendallTauBWithTies) {
  // C = 4, D = 0, one tie only in a, one only in b: 4 / sqrt(5 * 5).
  EXPECT_NEAR(kendall_tau_b({1, 2, 2, 3}, {1, 2, 3, 3}), 0.8, 1e-12);
  EXPECT_NEAR(kendall_tau_b({1, 2, 3}, {3, 2, 1}), -1.0, 1e-12);
  EXPECT_EQ(kendall_tau_b({1, 1, 1}, {1, 2, 3}), 0.0);
}

TEST(ValidationMetrics, RepeatabilityComparesWindowsPairwise) {
  // Two windows: window 0 "predicts" window 1, so the result is accuracy_metrics(w1, w0).
  const auto two = repeatability_metrics({{10, 10.4}, {20, 21.5}, {30, 19.8}, {40, 41}});
  // Relative errors 0.4/10.4, 1.5/21.5, 10.2/19.8, 1/41: two within 5 %, three within 10 %.
  EXPECT_DOUBLE_EQ(two.within_5pct, 0.5);
  EXPECT_DOUBLE_EQ(two.within_10pct, 0.75);
  EXPECT_NEAR(two.rmspe,
              std::sqrt((std::pow(0.4 / 10.4, 2) + std::pow(1.5 / 21.5, 2) +
                         std::pow(10.2 / 19.8, 2) + std::pow(1.0 / 41, 2)) /
                        4),
              1e-12);
  // Three windows: pairs (0,1), (0,2), (1,2). Subnet 0's third window is 10 % slower, so it is
  // within 5 % in pair (0,1) only; subnet 1 always agrees: mean share (1 + 0.5 + 0.5) / 3.
  const auto three = repeatability_metrics({{10, 10, 11}, {20, 20, 20}});
  EXPECT_NEAR(three.within_5pct, 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(three.within_10pct, 1.0);
  EXPECT_THROW(repeatability_metrics({{1, 2}}), Error);
  EXPECT_THROW(repeatability_metrics({{1}, {2}}), Error);
  EXPECT_THROW(repeatability_metrics({{1, 2}, {2}}), Error);
}

class FakeValidation : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = test::make_temp_dir("val") + "/t.db";
    LatencyTable table(path_, LatencyTable::Mode::read_write);
    ProfileOptions o;
    o.device_name = "fake";
    o.overhead_networks = 5;
    profile_space(space(), 224, table, fake_, o);
  }
  const SearchSpace& space() { return get_space("efficientformer"); }
  FakeBackend fake_;
  std::string path_;
};

TEST_F(FakeValidation, CsvRowsAndSummaryAgreeWithHandRecomputation) {
  const auto pred = LutLatencyPredictor::open(path_, "fake");
  ValidationOptions vo;
  vo.samples = 12;
  vo.seed = 4;
  const auto rep = validate_latency(space(), *pred, fake_, vo);
  ASSERT_EQ(rep.samples.size(), 12u);
  EXPECT_FALSE(rep.corrected.has_value());
  const std::string csv = path_ + ".csv";
  write_validation_csv(rep, csv);
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("index,arch,blocks,macs,measured_ms", 0), 0u);
  // Recompute the metrics from the CSV columns by hand.
  std::vector<double> meas, prd;
  Rng rng(4);
  int n = 0;
  while (std::getline(in, line)) {
    // The arch column is quoted JSON with commas: split after its closing quote.
    const auto close = line.rfind('"');
    std::stringstream rest(line.substr(close + 2));
    std::vector<std::string> cols;
    std::string c;
    while (std::getline(rest, c, ',')) cols.push_back(c);
    ASSERT_GE(cols.size(), 7u) << line;
    const double m = std::stod(cols[2]), p = std::stod(cols[5]);
    // The subnet is the n-th draw of the seed, timed on the fake device.
    const Network net = space().decode(sample_at_resolution(space(), rng, 224));
    EXPECT_NEAR(m, fake_.network_ms(net), 1e-5);
    EXPECT_NEAR(std::stod(cols[6]), 100.0 * (p - m) / m, 1e-3);
    // The last column lists the window medians; the fake device's three agree with the pooled one.
    std::stringstream windows(line.substr(line.rfind(',') + 1));
    std::vector<double> w;
    while (std::getline(windows, c, ';')) w.push_back(std::stod(c));
    ASSERT_EQ(w.size(), 3u) << line;
    for (double x : w) EXPECT_NEAR(x, m, 1e-5);
    meas.push_back(m);
    prd.push_back(p);
    ++n;
  }
  EXPECT_EQ(n, 12);
  double spe = 0;
  int in5 = 0;
  for (std::size_t i = 0; i < meas.size(); ++i) {
    const double rel = (prd[i] - meas[i]) / meas[i];
    spe += rel * rel;
    in5 += std::abs(rel) <= 0.05;
  }
  const auto j = validation_summary_json(rep);
  EXPECT_NEAR(j["rmspe"].get<double>(), std::sqrt(spe / n), 1e-6);
  EXPECT_NEAR(j["within_5pct"].get<double>(), static_cast<double>(in5) / n, 1e-12);
  EXPECT_TRUE(j["corrected"].is_null());
  // The fake device is deterministic: its windows agree exactly.
  ASSERT_TRUE(rep.repeatability.has_value());
  EXPECT_EQ(rep.samples.front().window_ms.size(), 3u);
  EXPECT_DOUBLE_EQ(j["repeatability"]["within_5pct"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["repeatability"]["rmspe"].get<double>(), 0.0);
}

TEST_F(FakeValidation, DriftFromTheReferenceStoredWithTheRows) {
  // The profiler stored the reference network's time with the rows: on the fake device, its
  // formula.
  const double ref = fake_.network_ms(reference_network());
  const auto stored = stored_reference_ms(LatencyTable(path_, LatencyTable::Mode::read_only),
                                          "fake", "efficientformer");
  ASSERT_TRUE(stored.has_value());
  EXPECT_NEAR(*stored, ref, 1e-9);
  const auto pred = LutLatencyPredictor::open(path_, "fake");
  ValidationOptions vo;
  vo.samples = 10;
  vo.seed = 2;
  vo.reference_build_ms = stored;
  const auto same = validate_latency(space(), *pred, fake_, vo);
  ASSERT_TRUE(same.drift.has_value());
  EXPECT_NEAR(*same.drift, 0.0, 1e-12);  // the same deterministic device
  // A table whose reference ran twice as long was built while the device ran at half speed:
  // its rows are twice too slow, and the calibration halves the predictions.
  vo.reference_build_ms = 2 * ref;
  const auto slow = validate_latency(space(), *pred, fake_, vo);
  EXPECT_NEAR(*slow.drift, -0.5, 1e-12);
  ASSERT_TRUE(slow.speed_calibrated.has_value());
  std::vector<double> meas, halved;
  for (const auto& smp : slow.samples)
    meas.push_back(smp.measured_ms), halved.push_back(0.5 * smp.predicted_ms);
  EXPECT_NEAR(slow.speed_calibrated->rmspe, accuracy_metrics(meas, halved).rmspe, 1e-12);
  const auto j = validation_summary_json(slow);
  EXPECT_NEAR(j["drift"].get<double>(), -0.5, 1e-12);
  EXPECT_NEAR(j["reference_now_ms"].get<double>(), ref, 1e-9);
}

// The fake device in slow phases that each last three groups of subnets: the k-th
// measure_networks call runs 1.0 times slower for k = 0..2, 1.3 for k = 3..5, 1.0 again, ... A
// reference timed on its own (measure_network, as L1 is) runs at full speed and misses them.
// With `burst_call`, that call's last network alone runs a further 1.5 times slower: a burst
// that hits the space's reference but not its group. With `level`, every network runs that many
// times slower besides, as whole networks do against hot rows on a shared host.
class SlowPhases final : public test::ForwardingBackend {
 public:
  explicit SlowPhases(FakeBackend& device, int burst_call = -1, double level = 1.0)
      : ForwardingBackend(device), burst_call_(burst_call), level_(level) {}
  static double phase(std::size_t call) { return call / 3 % 2 ? 1.3 : 1.0; }
  std::vector<TimingStats> measure_networks(const std::vector<Network>& nets,
                                            const TimingConfig& timing, int windows) override {
    const double f = level_ * phase(static_cast<std::size_t>(calls_));
    auto out = target_.measure_networks(nets, timing, windows);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const double g = calls_ == burst_call_ && i + 1 == out.size() ? 1.5 * f : f;
      TimingStats& s = out[i];
      s.median_ms *= g;
      s.p10_ms *= g;
      s.p90_ms *= g;
      for (auto* w : {&s.window_medians_ms, &s.window_p10_ms, &s.window_min_ms})
        for (double& v : *w) v *= g;
    }
    ++calls_;
    return out;
  }

 private:
  int calls_ = 0;
  int burst_call_;
  double level_;
};

TEST_F(FakeValidation, TheSpaceReferenceInEachGroupCalibratesItsSlowPhase) {
  const LatencyTable table(path_, LatencyTable::Mode::read_only);
  const auto own = stored_space_reference(table, "fake", space(), 224);
  ASSERT_TRUE(own.has_value());  // profile_space stored it with the rows
  EXPECT_EQ(own->arch, space_reference_arch(space(), 224));
  EXPECT_NEAR(own->ms, fake_.network_ms(space().decode(own->arch)), 1e-9);
  EXPECT_FALSE(stored_space_reference(table, "fake", space(), 192).has_value());

  const auto pred = LutLatencyPredictor::open(path_, "fake");
  ValidationOptions vo;
  vo.samples = 36;
  vo.seed = 6;
  vo.group = 6;  // six groups: three at full speed, three 1.3 times slower
  vo.reference_build_ms = stored_reference_ms(table, "fake", "efficientformer");
  const auto steady = validate_latency(space(), *pred, fake_, vo);
  SlowPhases slow(fake_);
  const auto l1_only = validate_latency(space(), *pred, slow, vo);
  vo.space_reference = ValidationSpaceReference{space().decode(own->arch), own->ms};
  // The fifth group's reference is caught in a burst its subnets missed.
  SlowPhases slow_with_burst(fake_, 4);
  const auto duet = validate_latency(space(), *pred, slow_with_burst, vo);

  // The same subnets, measuring 1.0 or 1.3 times longer in their phase. Each group's factor is
  // its phase: the median over the five nearest groups' references drops the burst, which
  // alone would have scaled the fifth group by 1.5, and keeps the phases of three groups.
  ASSERT_EQ(duet.samples.size(), steady.samples.size());
  // Each group's reference windows are recorded as timed, the burst included.
  const double reference_ms = fake_.network_ms(space().decode(own->arch));
  ASSERT_EQ(duet.space_reference_windows_ms.size(), 6u);
  for (std::size_t g = 0; g < 6; ++g) {
    ASSERT_EQ(duet.space_reference_windows_ms[g].size(), 3u) << "group " << g;
    const double f = SlowPhases::phase(g) * (g == 4 ? 1.5 : 1.0);
    for (double w : duet.space_reference_windows_ms[g])
      EXPECT_NEAR(w, f * reference_ms, 1e-9) << "group " << g;
  }
  for (std::size_t i = 0; i < duet.samples.size(); ++i) {
    const double f = SlowPhases::phase(i / 6);
    EXPECT_NEAR(duet.samples[i].measured_ms, f * steady.samples[i].measured_ms, 1e-9);
    ASSERT_TRUE(duet.samples[i].speed_factor.has_value());
    EXPECT_NEAR(*duet.samples[i].speed_factor, f, 1e-9) << "subnet " << i;
  }
  // L1, timed alone, ran at full speed: its calibration leaves the slow phase in the error.
  EXPECT_EQ(l1_only.speed_calibration, "reference network");
  EXPECT_NEAR(*l1_only.drift, 0.0, 1e-12);
  EXPECT_GT(l1_only.speed_calibrated->rmspe, steady.plain.rmspe + 0.05);
  // The space's reference ran in each group's windows: scaled by it, each group's predictions
  // are off by exactly what the table is off on the steady device.
  EXPECT_EQ(duet.speed_calibration, "space reference, per group");
  EXPECT_NEAR(duet.speed_calibrated->rmspe, steady.plain.rmspe, 1e-9);
  EXPECT_DOUBLE_EQ(duet.speed_calibrated->within_5pct, steady.plain.within_5pct);
  EXPECT_NEAR(*duet.space_drift, 0.15, 1e-9);  // median of 1.0 x 2, 1.5, 1.3 x 3, less one
  const auto j = validation_summary_json(duet);
  EXPECT_EQ(j["speed_calibration"], "space reference, per group");
  EXPECT_NEAR(j["space_reference_build_ms"].get<double>(), own->ms, 1e-12);
  ASSERT_EQ(j["space_reference_windows_ms"].size(), 6u);
  EXPECT_NEAR(j["space_reference_windows_ms"][4][0].get<double>(), 1.95 * reference_ms, 1e-9);
  ASSERT_TRUE(duet.repeatability.has_value());
  EXPECT_TRUE(j["calibrated_noise_ratio"].is_null());  // the fake's windows agree exactly
  EXPECT_TRUE(j["noisy_host_rule"].is_null());         // and the host is quiet

  // A correction fitted in the slow phase learned its median speed, which is stored with it.
  vo.fit_correction = true;
  SlowPhases slow_again(fake_);
  const auto fit = validate_latency(space(), *pred, slow_again, vo);
  ASSERT_TRUE(fit.fit_speed.has_value());
  EXPECT_NEAR(*fit.fit_speed, 1.15, 1e-9);
  ASSERT_TRUE(fit.speed_calibrated_corrected.has_value());

  // Stored with its speed, the correction predicts 1.15 times the rows' speed: each prediction
  // is the fitted model applied to the network's features (the speed is not divided out of
  // predictions: LatencyCorrection::speed).
  LatencyCorrection with_speed = *fit.fitted;
  with_speed.set_speed(*fit.fit_speed);
  {
    LatencyTable rw(path_, LatencyTable::Mode::read_write);
    rw.set_calibration("fake", "correction", with_speed.to_json());
  }
  const auto stored = LutLatencyPredictor::open(path_, "fake");
  ASSERT_TRUE(stored->has_correction());
  vo.fit_correction = false;
  const auto on_steady = validate_latency(space(), *stored, fake_, vo);
  for (std::size_t i = 0; i < on_steady.samples.size(); ++i) {
    const Network net = space().decode(space().from_json(on_steady.samples[i].arch));
    const double raw = fit.fitted->apply(pred->features(net));
    EXPECT_NEAR(*on_steady.samples[i].corrected_ms, raw, 1e-9 * raw) << "subnet " << i;
  }
  // Held out in another slow phase, the calibration divides that speed out (the table_validation
  // path reads it from the stored model): each prediction becomes corrected * f / 1.15 against
  // f * the steady time, off by exactly what corrected / 1.15 is off on the steady device.
  ASSERT_DOUBLE_EQ(stored->correction()->speed(), *fit.fit_speed);
  vo.space_reference->correction_speed = stored->correction()->speed();
  SlowPhases slow_held_out(fake_);
  const auto held_out = validate_latency(space(), *stored, slow_held_out, vo);
  std::vector<double> meas, corrected;
  for (const auto& smp : on_steady.samples)
    meas.push_back(smp.measured_ms), corrected.push_back(*smp.corrected_ms / 1.15);
  ASSERT_TRUE(held_out.speed_calibrated_corrected.has_value());
  EXPECT_NEAR(held_out.speed_calibrated_corrected->rmspe, accuracy_metrics(meas, corrected).rmspe,
              1e-9);
  // A stored speed that is not a positive number is refused with the fix.
  nlohmann::json bad = with_speed.to_json();
  bad["space_speed"] = 0.0;
  EXPECT_THROW(LatencyCorrection::from_json(bad), Error);
  bad["space_speed"] = "fast";
  EXPECT_THROW(LatencyCorrection::from_json(bad), Error);
  EXPECT_DOUBLE_EQ(LatencyCorrection::from_json(with_speed.to_json()).speed(), *fit.fit_speed);
}

TEST_F(FakeValidation, AnchoredToTheSpaceReferenceTheTablesLevelAndTheBuildsSlowStretchCancel) {
  const LatencyTable table(path_, LatencyTable::Mode::read_only);
  const auto own = stored_space_reference(table, "fake", space(), 224);
  ASSERT_TRUE(own.has_value());
  const Network reference = space().decode(own->arch);
  const auto pred = LutLatencyPredictor::open(path_, "fake");
  ValidationOptions vo;
  vo.samples = 36;
  vo.seed = 6;
  vo.group = 6;
  // The rows were timed in a stretch that slowed the reference 1.3 times but not the rows, and
  // now every whole network runs 1.25 times what the rows add up to, in two phases.
  vo.space_reference = ValidationSpaceReference{reference, 1.3 * own->ms};
  SlowPhases slow(fake_, -1, 1.25);
  const auto r = validate_latency(space(), *pred, slow, vo);

  // The table's prediction of the reference, read from its rows.
  ASSERT_TRUE(r.space_reference_predicted_ms.has_value());
  EXPECT_NEAR(*r.space_reference_predicted_ms, pred->predict_ms(reference), 1e-12);
  // By hand, on the steady device: each subnet is off by its own error relative to the
  // reference's, error_i = (predicted_i / true_i) / (predicted_ref / true_ref); the level, the
  // phases and the build's stretch all cancel.
  const double ref_ratio = pred->predict_ms(reference) / fake_.network_ms(reference);
  Rng rng(vo.seed);
  std::vector<double> truth, by_hand;
  for (const auto& s : r.samples) {
    const Network net = space().decode(sample_at_resolution(space(), rng, vo.resolution));
    truth.push_back(fake_.network_ms(net));
    by_hand.push_back(s.predicted_ms / ref_ratio);
  }
  ASSERT_TRUE(r.reference_anchored.has_value());
  const auto expected = accuracy_metrics(truth, by_hand);
  EXPECT_NEAR(r.reference_anchored->rmspe, expected.rmspe, 1e-9);
  EXPECT_NEAR(r.reference_anchored->within_5pct, expected.within_5pct, 1e-12);
  // Each subnet's anchored prediction, as the HTML report and the CSV show it, is off from its
  // measurement by the hand-computed error.
  for (std::size_t i = 0; i < r.samples.size(); ++i) {
    ASSERT_TRUE(r.samples[i].anchored_ms.has_value()) << "subnet " << i;
    EXPECT_NEAR(*r.samples[i].anchored_ms / r.samples[i].measured_ms, by_hand[i] / truth[i], 1e-9)
        << "subnet " << i;
  }
  // Calibrated by the build's reference time instead, the predictions keep the build's stretch:
  // 1.3 times too low.
  ASSERT_TRUE(r.speed_calibrated.has_value());
  EXPECT_GT(r.speed_calibrated->rmspe, 0.15);
  EXPECT_GT(r.speed_calibrated->rmspe, 2 * r.reference_anchored->rmspe);
  const auto j = validation_summary_json(r);
  EXPECT_NEAR(j["space_reference_predicted_ms"].get<double>(), pred->predict_ms(reference), 1e-12);
  EXPECT_NEAR(j["reference_anchored"]["rmspe"].get<double>(), expected.rmspe, 1e-9);
  EXPECT_TRUE(j["reference_anchored_corrected"].is_null());  // no correction

  // With a correction fitted on these samples, the corrected predictions are anchored by the
  // fitted model's own prediction of the reference.
  vo.fit_correction = true;
  SlowPhases slow_fit(fake_, -1, 1.25);
  const auto fit = validate_latency(space(), *pred, slow_fit, vo);
  ASSERT_TRUE(fit.fitted.has_value() && fit.space_reference_corrected_ms.has_value());
  EXPECT_NEAR(*fit.space_reference_corrected_ms, fit.fitted->apply(pred->features(reference)),
              1e-12);
  ASSERT_TRUE(fit.reference_anchored_corrected.has_value());
  std::vector<double> anchored;
  for (const auto& s : fit.samples)
    anchored.push_back(*s.corrected_ms * *s.speed_factor * 1.3 * own->ms /
                       *fit.space_reference_corrected_ms);
  std::vector<double> meas;
  for (const auto& s : fit.samples) meas.push_back(s.measured_ms);
  EXPECT_NEAR(fit.reference_anchored_corrected->rmspe, accuracy_metrics(meas, anchored).rmspe,
              1e-12);
  // With a correction, the samples carry the corrected predictor anchored (the one the noisy-host
  // rule judges), and the CSV's column before the window medians holds it.
  const std::string csv = path_ + ".anchored.csv";
  write_validation_csv(fit, csv);
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_NE(line.find(",speed_factor,anchored_ms,window_ms"), std::string::npos) << line;
  for (std::size_t i = 0; i < fit.samples.size(); ++i) {
    ASSERT_TRUE(fit.samples[i].anchored_ms.has_value()) << "subnet " << i;
    EXPECT_NEAR(*fit.samples[i].anchored_ms, anchored[i], 1e-9 * anchored[i]) << "subnet " << i;
    ASSERT_TRUE(std::getline(in, line));
    const auto last = line.rfind(',');
    const auto before = line.rfind(',', last - 1);
    EXPECT_NEAR(std::stod(line.substr(before + 1, last - before - 1)), anchored[i], 1e-6) << line;
  }
}

// The fake device whose end-to-end windows disagree in their medians and minimums but agree in
// their 10th percentiles: a host whose slow bursts hit the upper half of each window.
class BurstyWindows final : public test::ForwardingBackend {
 public:
  explicit BurstyWindows(FakeBackend& device) : ForwardingBackend(device), device_(device) {}
  std::vector<TimingStats> measure_networks(const std::vector<Network>& nets, const TimingConfig&,
                                            int) override {
    std::vector<TimingStats> out;
    for (const auto& n : nets) {
      const double ms = device_.network_ms(n);
      TimingStats s;
      s.median_ms = ms;
      s.p10_ms = 0.95 * ms;
      s.window_medians_ms = {ms, 1.2 * ms, ms};
      s.window_p10_ms = {0.95 * ms, 0.95 * ms, 0.95 * ms};
      s.window_min_ms = {0.9 * ms, 0.8 * ms, 0.9 * ms};
      out.push_back(s);
    }
    return out;
  }

 private:
  FakeBackend& device_;
};

// The fake device, recording how many subnets each measure_networks call timed together.
class GroupRecorder final : public test::ForwardingBackend {
 public:
  explicit GroupRecorder(FakeBackend& device) : ForwardingBackend(device) {}
  std::vector<TimingStats> measure_networks(const std::vector<Network>& nets,
                                            const TimingConfig& timing, int windows) override {
    sizes.push_back(nets.size());
    return target_.measure_networks(nets, timing, windows);
  }
  std::vector<std::size_t> sizes;
};

TEST_F(FakeValidation, SubnetsAreTimedInGroupsOfTheRequestedSize) {
  const auto pred = LutLatencyPredictor::open(path_, "fake");
  ValidationOptions vo;
  vo.samples = 20;
  vo.seed = 5;
  vo.time_reference = false;
  std::vector<double> measured;
  for (const int group : {8, 20, 1}) {
    GroupRecorder rec(fake_);
    vo.group = group;
    const auto rep = validate_latency(space(), *pred, rec, vo);
    const std::vector<std::size_t> expect =
        group == 8 ? std::vector<std::size_t>{8, 8, 4}
                   : std::vector<std::size_t>(static_cast<std::size_t>(20 / group),
                                              static_cast<std::size_t>(group));
    EXPECT_EQ(rec.sizes, expect) << "group " << group;
    // The grouping changes when a subnet is timed, not which subnet is paired with which time.
    std::vector<double> m;
    for (const auto& smp : rep.samples) m.push_back(smp.measured_ms);
    if (measured.empty()) measured = m;
    EXPECT_EQ(m, measured) << "group " << group;
  }
}

TEST_F(FakeValidation, EstimatorsComparedByTheirWindowToWindowRepeatability) {
  const auto pred = LutLatencyPredictor::open(path_, "fake");
  BurstyWindows bursty(fake_);
  ValidationOptions vo;
  vo.samples = 6;
  vo.seed = 3;
  const auto rep = validate_latency(space(), *pred, bursty, vo);
  ASSERT_EQ(rep.estimator_repeatability.size(), 3u);
  // Pairs (0,1), (0,2), (1,2): medians differ by 20 % (relative to the later window: 1/6 and
  // 1/1.2 - 1) in two pairs of three; the p10s never; the minimums by 1/8 or 1/9 in two.
  const auto j = validation_summary_json(rep);
  EXPECT_DOUBLE_EQ(j["estimators"]["p10"]["rmspe"].get<double>(), 0.0);
  EXPECT_NEAR(j["estimators"]["median"]["within_5pct"].get<double>(), 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(j["estimators"]["min"]["within_5pct"].get<double>(), 1.0 / 3.0, 1e-12);
  EXPECT_EQ(j["most_repeatable_estimator"], "p10");
  // A noisy host (windows within 5 % for a third of the pairs) without a stored reference: the
  // rule compares the plain sum, a few % off on the fake, with the windows' 12 % RMSPE
  // ((1/6 + 0 + 0.2) / 3).
  EXPECT_EQ(j["regime"], "noisy");
  EXPECT_NEAR(j["repeatability"]["rmspe"].get<double>(), (1.0 / 6.0 + 0.2) / 3.0, 1e-12);
  EXPECT_TRUE(j["calibrated_noise_ratio"].is_null());
  EXPECT_LT(j["noise_ratio"].get<double>(), 1.0);
  EXPECT_EQ(j["noisy_host_rule"], "holds");
}

TEST_F(FakeValidation, CrossValidatedCorrectionBeatsPlainSum) {
  const auto pred = LutLatencyPredictor::open(path_, "fake");
  ValidationOptions vo;
  vo.samples = 40;
  vo.seed = 8;
  vo.fit_correction = true;
  const auto rep = validate_latency(space(), *pred, fake_, vo);
  ASSERT_TRUE(rep.corrected.has_value());
  ASSERT_TRUE(rep.fitted.has_value());
  EXPECT_EQ(rep.correction_kind, "cross-validated");
  // The fake's in-network drift is linear in the features: the correction removes it.
  EXPECT_LT(rep.corrected->rmspe, 0.5 * rep.plain.rmspe);
  EXPECT_LT(rep.corrected->rmspe, 0.005);

  // Stored, the correction is used by predict_ms and reported as "stored" on fresh samples.
  {
    LatencyTable t(path_, LatencyTable::Mode::read_write);
    t.set_calibration("fake", "correction", rep.fitted->to_json());
  }
  const auto corrected = LutLatencyPredictor::open(path_, "fake");
  EXPECT_TRUE(corrected->has_correction());
  const Network l3 = space().decode(space().resolve("l3"));
  EXPECT_NE(corrected->predict_ms(l3), corrected->predict_sum_ms(l3));
  EXPECT_NEAR(corrected->predict_ms(l3), fake_.network_ms(l3), 0.01 * fake_.network_ms(l3));
  vo.fit_correction = false;
  vo.seed = 99;
  const auto fresh = validate_latency(space(), *corrected, fake_, vo);
  EXPECT_EQ(fresh.correction_kind, "stored");
  EXPECT_LT(fresh.corrected->rmspe, fresh.plain.rmspe);
}

}  // namespace
}  // namespace hwnas
