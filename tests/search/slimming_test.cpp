// Latency-driven slimming against a trajectory computed by hand on a toy table.
#include <gtest/gtest.h>

#include "core/error.h"
#include "search/search_runner.h"
#include "search/slimming.h"
#include "tests/search/toy_spaces.h"

namespace hwnas {
namespace {

// Toy table (ms per block; stage 0 blocks run on 8x8, stage 1 on 4x4):
//   meta4d 8x8:  c16 1.0, c32 2.0
//   meta4d 4x4:  c32 1.5, c48 2.0, c64 3.0
//   meta3d 4x4:  c32 2.5, c48 3.5, c64 5.0
// Known accuracy: 0.5 + 0.04 d0 + 0.03 d1 + 0.0005 w0 + 0.003 w1 + 0.025 num_vit.
std::shared_ptr<test::MapLatencyPredictor> toy_table() {
  auto t = std::make_shared<test::MapLatencyPredictor>();
  auto m4 = [](int c, int h) { return BlockSpec::make(BlockKind::meta4d, {c, h, h, 3, 4}); };
  auto m3 = [](int c) { return BlockSpec::make(BlockKind::meta3d, {c, 4, 4, 8, 32, 4, 4}); };
  t->table[m4(16, 8)] = 1.0;
  t->table[m4(32, 8)] = 2.0;
  t->table[m4(32, 4)] = 1.5;
  t->table[m4(48, 4)] = 2.0;
  t->table[m4(64, 4)] = 3.0;
  t->table[m3(32)] = 2.5;
  t->table[m3(48)] = 3.5;
  t->table[m3(64)] = 5.0;
  return t;
}

double toy_accuracy(const Arch& a) {
  const auto& g = a.genes;  // width0, width1, depth0, depth1, num_vit
  return 0.5 + 0.04 * g[2] + 0.03 * g[3] + 0.0005 * g[0] + 0.003 * g[1] + 0.025 * g[4];
}

struct SlimFixture {
  std::unique_ptr<test::ToySpace> space = test::make_slim_space();
  std::shared_ptr<LatencyObjective> latency =
      std::make_shared<LatencyObjective>(*space, toy_table());
  std::shared_ptr<AccuracyObjective> accuracy =
      std::make_shared<AccuracyObjective>(std::make_shared<test::FunctionAccuracy>(toy_accuracy));
};

// Slimming toward `latency_max_ms`, every other setting at its default.
SlimmingParams target(double latency_max_ms) {
  SlimmingParams params;
  params.latency_max_ms = latency_max_ms;
  return params;
}

TEST(Slimming, ReproducesHandComputedGreedyTrajectory) {
  SlimFixture s;
  Problem p(*s.space, {s.latency, s.accuracy}, {Constraint{s.latency, 8.0}});
  Slimming slim(*s.space, p, target(8.0));
  RunnerOptions opt;
  opt.max_evaluations = 0;  // slimming ends by itself
  opt.bounds = Normalisation{{0, -1}, {20, 0}};
  const auto result = SearchRunner(p, slim, opt).run();

  // Hand computation (drop / saved, per action type's least important candidate):
  // start (32,64,2,3,1): L = 2*2.0 + 2*3.0 + 5.0 = 15, Q = 0.903
  //  step 1: width: width0-16 drop .008 saved 2 -> .004 (width1-16 drops .048)
  //          depth: depth1-1 drop .03 saved 3 -> .01 (depth0-1 drops .04)
  //          mb3d: drop .025 saved 2 -> .0125            => width0-16, L 13
  //  step 2 (16,64,2,3,1): width1-16 drop .048 saved 3.5 -> .0137; depth1-1 .03/3 = .01;
  //          mb3d .025/2 = .0125                          => depth1-1, L 10
  //  step 3 (16,64,2,2,1): width1-16 .048/2.5 = .0192; depth1-1 (drop .03 < .04) .03/3 = .01;
  //          mb3d .025/2 = .0125                          => depth1-1, L 7 <= 8: stop
  struct Expected {
    const char* action;
    std::vector<int> genes;
    double latency;
    double quality;
  };
  const std::vector<Expected> expected = {{"start", {32, 64, 2, 3, 1}, 15.0, 0.903},
                                          {"width0-16", {16, 64, 2, 3, 1}, 13.0, 0.895},
                                          {"depth1-1", {16, 64, 2, 2, 1}, 10.0, 0.865},
                                          {"depth1-1", {16, 64, 2, 1, 1}, 7.0, 0.835}};
  const auto& traj = slim.trajectory();
  ASSERT_EQ(traj.size(), expected.size());
  for (std::size_t i = 0; i < traj.size(); ++i) {
    EXPECT_EQ(traj[i].action, expected[i].action) << "step " << i;
    EXPECT_EQ(traj[i].arch.genes, expected[i].genes) << "step " << i;
    EXPECT_NEAR(traj[i].latency_ms, expected[i].latency, 1e-9) << "step " << i;
    EXPECT_NEAR(traj[i].quality, expected[i].quality, 1e-9) << "step " << i;
  }
  EXPECT_TRUE(slim.finished());
  EXPECT_EQ(slim.stop_reason(), "latency target met");
  EXPECT_EQ(slim.result()["trajectory"].size(), 4u);
}

TEST(Slimming, StopsWhenNothingSavesLatencyAndRejectsBadSetups) {
  SlimFixture s;
  // A target below the smallest arch (1 x meta4d c16 + 1 x meta4d c32 = 2.5 ms) is unreachable.
  Problem p(*s.space, {s.latency, s.accuracy}, {Constraint{s.latency, 1.0}});
  Slimming slim(*s.space, p, target(1.0));
  RunnerOptions opt;
  opt.max_evaluations = 0;
  opt.bounds = Normalisation{{0, -1}, {20, 0}};
  SearchRunner(p, slim, opt).run();
  EXPECT_EQ(slim.stop_reason(), "no action reduces latency further");
  EXPECT_EQ(slim.trajectory().back().arch, s.space->smallest());

  EXPECT_THROW(Slimming(*s.space, p, SlimmingParams{}), Error);  // no target
  Problem no_accuracy(*s.space, {s.latency});
  EXPECT_THROW(Slimming(*s.space, no_accuracy, target(8.0)), Error);
}

}  // namespace
}  // namespace hwnas
