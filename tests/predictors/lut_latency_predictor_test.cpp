// LutLatencyPredictor on a hand-built table, its errors, and the learned correction.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <thread>

#include "core/error.h"
#include "predictors/lut_latency_predictor.h"
#include "profilers/fake_backend.h"
#include "profilers/profiler.h"
#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

const SearchSpace& ef() { return get_space("efficientformer"); }

LatencyRow row(const std::string& key, double ms) {
  LatencyRow r;
  r.key = key;
  r.stats.median_ms = ms;
  r.stats.p10_ms = r.stats.p90_ms = r.stats.mean_ms = ms;
  r.stats.repeats = 1;
  return r;
}

// A table of l1's blocks with hand-picked medians: block i costs 0.1 * (i + 1) ms by its index
// in the sorted key list.
std::string hand_table(const std::string& dir, std::vector<std::pair<std::string, double>>& rows) {
  const std::string path = dir + "/hand.db";
  LatencyTable t(path, LatencyTable::Mode::read_write);
  DeviceProfile p;
  p.name = "hand";
  p.cpu_model = "by hand";
  p.runtime = "none";
  t.ensure_device(p);
  std::set<std::string> keys;
  for (const auto& b : ef().decode(ef().resolve("l1")).blocks) keys.insert(b.key());
  std::vector<LatencyRow> lr;
  double ms = 0.1;
  for (const auto& k : keys) {
    rows.emplace_back(k, ms);
    lr.push_back(row(k, ms));
    ms += 0.1;
  }
  t.insert("hand", t.begin_run("hand", "hand", TimingConfig{}), lr);
  t.set_calibration("hand", "overhead", {{"ms", 0.05}});
  return path;
}

// A complete efficientformer table at 224 of the fake device "fake", in a fresh folder.
std::string fake_table() {
  const std::string path = test::make_temp_dir("lut") + "/t.db";
  LatencyTable table(path, LatencyTable::Mode::read_write);
  FakeBackend fake;
  ProfileOptions o;
  o.device_name = "fake";
  o.overhead_networks = 1;
  profile_space(ef(), 224, table, fake, o);
  return path;
}

TEST(LutLatencyPredictor, SumOfMediansPlusOverheadOnHandBuiltTable) {
  std::vector<std::pair<std::string, double>> rows;
  const std::string path = hand_table(test::make_temp_dir("lut"), rows);
  const auto pred = LutLatencyPredictor::open(path, "hand");
  EXPECT_EQ(pred->rows(), rows.size());
  EXPECT_DOUBLE_EQ(pred->overhead_ms(), 0.05);
  const Network net = ef().decode(ef().resolve("l1"));
  // By hand: look each block up in the list we wrote.
  double expected = 0.05;
  for (const auto& b : net.blocks)
    for (const auto& [k, ms] : rows)
      if (k == b.key()) expected += ms;
  EXPECT_NEAR(pred->predict_sum_ms(net), expected, 1e-12);
  EXPECT_NEAR(pred->predict_ms(net), expected, 1e-12);  // no correction stored
  EXPECT_TRUE(pred->missing(net).empty());
  EXPECT_EQ(pred->source(), "lut:" + path + "#hand");
  // l1: stem, 3 + 2 + 6 + 3 Meta4D, 3 downsamples, flatten, 1 Meta3D, head = 21 blocks.
  EXPECT_EQ(net.blocks.size(), 21u);
}

TEST(LutLatencyPredictor, P10StatisticSumsP10sAndIgnoresCorrection) {
  const std::string path = test::make_temp_dir("lut") + "/p10.db";
  {
    LatencyTable t(path, LatencyTable::Mode::read_write);
    DeviceProfile p;
    p.name = "d";
    t.ensure_device(p);
    LatencyRow a = row("flatten:c=448,h=7,w=7", 1.0),
               b = row("head:c=448,n=49,classes=1000,dist=1", 3.0);
    a.stats.p10_ms = 0.5;
    b.stats.p10_ms = 2.0;
    t.insert("d", t.begin_run("d", "hand", TimingConfig{}), {a, b});
    t.set_calibration("d", "overhead", {{"ms", 0.25}, {"ms_p10", 0.125}});
  }
  Network net;
  net.space = "efficientformer";
  net.input = {7, 7, 448};
  net.blocks = {BlockSpec::parse("flatten:c=448,h=7,w=7"),
                BlockSpec::parse("head:c=448,n=49,classes=1000,dist=1")};
  EXPECT_DOUBLE_EQ(LutLatencyPredictor::open(path, "d")->predict_ms(net), 1.0 + 3.0 + 0.25);
  EXPECT_DOUBLE_EQ(LutLatencyPredictor::open(path, "d", LatencyStatistic::p10)->predict_ms(net),
                   0.5 + 2.0 + 0.125);
}

TEST(LutLatencyPredictor, MissingRowsNameKeysCountAndCommand) {
  std::vector<std::pair<std::string, double>> rows;
  const std::string path = hand_table(test::make_temp_dir("lut"), rows);
  const auto pred = LutLatencyPredictor::open(path, "hand");
  const Network l7 = ef().decode(ef().resolve("l7"));
  const auto miss = pred->missing(l7);
  ASSERT_FALSE(miss.empty());
  try {
    pred->predict_ms(l7);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(std::to_string(miss.size()) + " block(s)"), std::string::npos) << msg;
    EXPECT_NE(msg.find(miss[0].key()), std::string::npos) << msg;
    EXPECT_NE(msg.find("hwnas profile --space efficientformer"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--device hand"), std::string::npos) << msg;
  }
}

TEST(LutLatencyPredictor, OpenErrorsNameFileDeviceAndCommand) {
  const std::string dir = test::make_temp_dir("lut");
  try {
    LutLatencyPredictor::open(dir + "/none.db", "host");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("hwnas profile"), std::string::npos) << e.what();
  }
  std::vector<std::pair<std::string, double>> rows;
  const std::string path = hand_table(dir, rows);
  try {
    LutLatencyPredictor::open(path, "phone");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'phone'"), std::string::npos) << e.what();
  }
}

TEST(LutLatencyPredictor, ConcurrentPredictionsAgree) {
  const std::string path = fake_table();
  const auto pred = LutLatencyPredictor::open(path, "fake");
  Rng rng(3);
  std::vector<Network> nets;
  for (int i = 0; i < 200; ++i) nets.push_back(ef().decode(ef().sample(rng)));
  std::vector<double> serial;
  for (const auto& n : nets) serial.push_back(pred->predict_ms(n));
  std::vector<double> a(nets.size()), b(nets.size());
  std::thread t1([&] {
    for (std::size_t i = 0; i < nets.size(); ++i) a[i] = pred->predict_ms(nets[i]);
  });
  std::thread t2([&] {
    for (std::size_t i = nets.size(); i-- > 0;) b[i] = pred->predict_ms(nets[i]);
  });
  t1.join();
  t2.join();
  EXPECT_EQ(a, serial);
  EXPECT_EQ(b, serial);
}

// predict_ms folds the correction into each row; the reference is the correction applied to
// the network's features, a separate path (LatencyFeatures, LatencyCorrection::apply).
TEST(LutLatencyPredictor, CorrectedPredictionIsTheCorrectionAppliedToTheFeatures) {
  const std::string path = fake_table();
  const auto plain = LutLatencyPredictor::open(path, "fake");
  Rng rng(5);
  std::vector<LatencyFeatures> feats;
  std::vector<double> meas;
  for (int i = 0; i < 60; ++i) {
    const LatencyFeatures f = plain->features(ef().decode(ef().sample(rng)));
    double drift = 0.2;
    for (std::size_t k = 0; k < kCorrectionKindSlots; ++k)
      for (std::size_t l = 0; l < kStageLevels; ++l)
        drift += 0.02 * static_cast<double>((k + 2 * l) % 5) * f.stage_ms[k][l];
    feats.push_back(f);
    meas.push_back(f.plain_ms + drift);
  }
  const auto c = LatencyCorrection::fit(feats, meas);
  {
    LatencyTable table(path, LatencyTable::Mode::read_write);
    table.set_calibration("fake", "correction", c.to_json());
  }
  const auto corrected = LutLatencyPredictor::open(path, "fake");
  ASSERT_TRUE(corrected->has_correction());
  int moved = 0;
  for (int i = 0; i < 200; ++i) {
    const Network net = ef().decode(ef().sample(rng));
    const double want = c.apply(plain->features(net));
    EXPECT_NEAR(corrected->predict_ms(net), want, 1e-9 * want) << i;
    moved += std::abs(want / plain->predict_ms(net) - 1) > 1e-3;
  }
  EXPECT_GT(moved, 150);
  // A row replaced by with_rows carries the correction of its own kind and stage.
  const Network l1 = ef().decode(ef().resolve("l1"));
  const BlockSpec& changed = l1.blocks[3];
  const auto updated = corrected->with_rows({row(changed.key(), *plain->block_ms(changed) + 1.0)});
  const double want = c.apply(updated->features(l1));
  EXPECT_NEAR(updated->predict_ms(l1), want, 1e-9 * want);
  EXPECT_GT(updated->predict_ms(l1), corrected->predict_ms(l1) + 0.5);
}

TEST(LatencyCorrection, RecoversKnownLinearDriftAndRoundTrips) {
  // Networks whose true time is plain + 0.3 + 0.04 * meta3d_ms + 0.002 * meta4d count.
  Rng rng(9);
  std::vector<LatencyFeatures> feats;
  std::vector<double> meas;
  const auto m3 = static_cast<std::size_t>(BlockKind::meta3d);
  const auto m4 = static_cast<std::size_t>(BlockKind::meta4d);
  for (int i = 0; i < 80; ++i) {
    LatencyFeatures f;
    f.kind_ms[m3] = 1.0 + 5.0 * uniform_real(rng);
    f.kind_count[m4] = uniform_int(rng, 4, 30);
    f.kind_ms[m4] = 0.2 * f.kind_count[m4] + uniform_real(rng);
    f.plain_ms = f.kind_ms[m3] + f.kind_ms[m4] + 0.1;
    feats.push_back(f);
    meas.push_back(f.plain_ms + 0.3 + 0.04 * f.kind_ms[m3] + 0.002 * f.kind_count[m4]);
  }
  const auto c = LatencyCorrection::fit(feats, meas, 1e-6);
  for (std::size_t i = 0; i < feats.size(); ++i) EXPECT_NEAR(c.apply(feats[i]), meas[i], 1e-4);
  const auto j = c.to_json();
  EXPECT_NEAR(j["scale"]["meta3d"].get<double>(), 0.04, 1e-4);
  EXPECT_NEAR(j["per_block_ms"]["meta4d"].get<double>(), 0.002, 1e-4);
  const auto back = LatencyCorrection::from_json(j);
  EXPECT_DOUBLE_EQ(back.apply(feats[0]), c.apply(feats[0]));
  EXPECT_THROW(LatencyCorrection::from_json({{"model", "other"}}), Error);
  EXPECT_THROW(LatencyCorrection::fit({feats[0], feats[1]}, {1.0, 2.0}), Error);
}

TEST(LatencyCorrection, StageLevelsAreRoundedLog2OfTheInputGrid) {
  // By hand: log2 of 64, 16, 8, 2 and 224, 56, 28, 14, 7 rounded.
  const std::vector<std::pair<std::string, std::size_t>> cases = {
      {"stem:cin=1,c=16,h=64,w=64", 6},
      {"meta4d:c=48,h=16,w=16,pool=3,mlp=4", 4},
      {"downsample:cin=16,c=32,h=8,w=8", 3},
      {"meta3d:c=64,h=2,w=2,heads=8,kd=32,ar=4,mlp=4", 1},
      {"stem:cin=3,c=48,h=224,w=224", 8},
      {"meta4d:c=48,h=56,w=56,pool=3,mlp=4", 6},
      {"meta4d:c=96,h=28,w=28,pool=3,mlp=4", 5},
      {"meta4d:c=224,h=14,w=14,pool=3,mlp=4", 4},
      {"meta3d:c=448,h=7,w=7,heads=8,kd=32,ar=4,mlp=4", 3}};
  for (const auto& [key, level] : cases)
    EXPECT_EQ(block_stage_level(BlockSpec::parse(key)), level) << key;
  // Kinds registered at run time share one slot, named so in stored models.
  EXPECT_EQ(correction_kind_slot(static_cast<BlockKind>(kBlockKindCount + 3)), kBlockKindCount);
  EXPECT_EQ(correction_slot_name(kBlockKindCount), "registered");
  EXPECT_EQ(correction_slot_name(static_cast<std::size_t>(BlockKind::meta4d)), "meta4d");
}

TEST(LatencyCorrection, FitsAKindWhoseRowsAreOffAtOneStageOnly) {
  // Networks of meta4d blocks at 16 x 16 and 8 x 8 whose rows at 16 x 16 are 6 % high and at
  // 8 x 8 exact (as int8 efficientformer-fmnist's were): the true time is plain minus 6 % of the
  // 16 x 16 rows. A per-kind scale cannot tell the two stages apart; the stage scale can.
  const BlockSpec at16 = BlockSpec::parse("meta4d:c=48,h=16,w=16,pool=3,mlp=4");
  const BlockSpec at8 = BlockSpec::parse("meta4d:c=96,h=8,w=8,pool=3,mlp=4");
  Rng rng(21);
  std::vector<LatencyFeatures> feats;
  std::vector<double> meas;
  for (int i = 0; i < 60; ++i) {
    LatencyFeatures f;
    double high = 0;
    for (int b = uniform_int(rng, 1, 6); b > 0; --b) {
      const double ms = 0.05 + 0.02 * uniform_real(rng);
      f.add_block(at16, ms);
      high += ms;
    }
    for (int b = uniform_int(rng, 1, 6); b > 0; --b)
      f.add_block(at8, 0.04 + 0.02 * uniform_real(rng));
    f.plain_ms = f.kind_ms[static_cast<std::size_t>(BlockKind::meta4d)] + 0.01;
    feats.push_back(f);
    meas.push_back(f.plain_ms - 0.06 * high);
  }
  const auto m4 = static_cast<std::size_t>(BlockKind::meta4d);
  EXPECT_NEAR(feats[0].stage_ms[m4][4] + feats[0].stage_ms[m4][3], feats[0].kind_ms[m4], 1e-12);
  const auto c = LatencyCorrection::fit(feats, meas, 1e-8);
  double worst = 0;
  for (std::size_t i = 0; i < feats.size(); ++i)
    worst = std::max(worst, std::abs(c.apply(feats[i]) / meas[i] - 1));
  EXPECT_LT(worst, 1e-4);
  // The same model without the stage sums (v1: per kind only) is left with the stages' mix.
  const auto j = c.to_json();
  EXPECT_EQ(j["model"], "ridge-per-kind-stage-v2");
  nlohmann::json v1 = j;
  v1["model"] = "ridge-per-kind-v1";
  v1.erase("stage_scale");
  EXPECT_NO_THROW(LatencyCorrection::from_json(v1));
  auto per_kind = feats;
  for (auto& f : per_kind) f.stage_ms = {};
  const auto v1_fit = LatencyCorrection::fit(per_kind, meas, 1e-8);
  double v1_worst = 0;
  for (std::size_t i = 0; i < per_kind.size(); ++i)
    v1_worst = std::max(v1_worst, std::abs(v1_fit.apply(per_kind[i]) / meas[i] - 1));
  EXPECT_GT(v1_worst, 10 * worst);
  // Round trip, and a stored v1 model applies its per-kind terms only (by hand).
  EXPECT_DOUBLE_EQ(LatencyCorrection::from_json(j).apply(feats[3]), c.apply(feats[3]));
  const nlohmann::json stored_v1 = {
      {"model", "ridge-per-kind-v1"},        {"intercept_ms", 0.02}, {"scale", {{"meta4d", -0.05}}},
      {"per_block_ms", {{"meta4d", 0.001}}}, {"lambda", 0.1},        {"samples", 50}};
  EXPECT_NEAR(
      LatencyCorrection::from_json(stored_v1).apply(feats[3]),
      feats[3].plain_ms + 0.02 - 0.05 * feats[3].kind_ms[m4] + 0.001 * feats[3].kind_count[m4],
      1e-12);
  // Networks that all have the same blocks leave no column to fit: the mean residual alone.
  const std::vector<LatencyFeatures> alike(5, feats[0]);
  const auto mean_only = LatencyCorrection::fit(alike, {1.0, 1.1, 1.2, 1.3, 1.4});
  EXPECT_NEAR(mean_only.apply(feats[0]), 1.2, 1e-12);
  nlohmann::json short_levels = j;
  short_levels["stage_scale"]["meta4d"] = {0.1, 0.2};
  EXPECT_NE(test::error_of([&] { LatencyCorrection::from_json(short_levels); }).find("levels"),
            std::string::npos);
}

TEST(LatencyCorrection, CrossValidationKeepsARealDriftAndShrinksOnNoise) {
  // Six kinds with random sums and counts; the measurements are the plain sum times 1.03 (a
  // drift the features explain through their sums) or times noise the features do not explain.
  const std::vector<std::size_t> kinds = {0, 1, 2, 3, 4, 5};
  auto draw = [&](Rng& rng, int n, bool noise) {
    std::pair<std::vector<LatencyFeatures>, std::vector<double>> out;
    for (int i = 0; i < n; ++i) {
      LatencyFeatures f;
      for (const std::size_t k : kinds) {
        f.kind_count[k] = uniform_int(rng, 1, 12);
        f.kind_ms[k] = f.kind_count[k] * (0.5 + uniform_real(rng));
        f.plain_ms += f.kind_ms[k];
      }
      out.first.push_back(f);
      out.second.push_back(f.plain_ms * (noise ? 1 + 0.06 * (uniform_real(rng) - 0.5) : 1.03));
    }
    return out;
  };
  Rng rng(17);
  const auto [drift_f, drift_m] = draw(rng, 60, false);
  const auto drift = LatencyCorrection::fit_cross_validated(drift_f, drift_m);
  EXPECT_EQ(drift.lambda(), kCorrectionLambdas.front());
  for (std::size_t i = 0; i < drift_f.size(); ++i)
    EXPECT_NEAR(drift.apply(drift_f[i]) / drift_m[i], 1.0, 2e-3) << i;

  // Pure noise on 40 samples: the penalty grows, and fresh samples are predicted no worse than
  // by the smallest penalty, which fits the noise.
  const auto [noise_f, noise_m] = draw(rng, 40, true);
  const auto chosen = LatencyCorrection::fit_cross_validated(noise_f, noise_m);
  EXPECT_GT(chosen.lambda(), kCorrectionLambdas.front());
  const auto loose = LatencyCorrection::fit(noise_f, noise_m, kCorrectionLambdas.front());
  const auto [fresh_f, fresh_m] = draw(rng, 400, true);
  double chosen_sq = 0, loose_sq = 0;
  for (std::size_t i = 0; i < fresh_f.size(); ++i) {
    chosen_sq += std::pow(chosen.apply(fresh_f[i]) / fresh_m[i] - 1, 2);
    loose_sq += std::pow(loose.apply(fresh_f[i]) / fresh_m[i] - 1, 2);
  }
  EXPECT_LT(chosen_sq, loose_sq);
  // A cross-validated prediction never sees its own measurement; the others of its fold's
  // training set do.
  auto moved = drift_m;
  moved[0] *= 2;
  const auto fixed_penalty = [](const auto& f, const auto& m) {
    return LatencyCorrection::fit(f, m, 1e-2);
  };
  const auto before = cross_validated_predictions(drift_f, drift_m, 5, fixed_penalty);
  const auto after = cross_validated_predictions(drift_f, moved, 5, fixed_penalty);
  EXPECT_DOUBLE_EQ(after[0], before[0]);
  EXPECT_DOUBLE_EQ(after[5], before[5]);
  EXPECT_NE(after[1], before[1]);
  EXPECT_THROW(cross_validated_predictions(drift_f, drift_m, 1, fixed_penalty), Error);
  // Too few samples for 5 folds of 3: the default penalty.
  EXPECT_EQ(LatencyCorrection::fit_cross_validated({drift_f.begin(), drift_f.begin() + 4},
                                                   {drift_m.begin(), drift_m.begin() + 4})
                .lambda(),
            1e-2);
}

}  // namespace
}  // namespace hwnas
