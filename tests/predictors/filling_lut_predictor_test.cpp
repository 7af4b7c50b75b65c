// FillingLutPredictor: missing rows are measured once each, in one filler call per network, also
// under concurrent predictions; the result equals a complete table's; filler errors propagate.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "core/error.h"
#include "predictors/filling_lut_predictor.h"
#include "profilers/fake_backend.h"
#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

struct CountingFiller {
  std::shared_ptr<FakeBackend> fake = std::make_shared<FakeBackend>();
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::multiset<std::string>> measured =
      std::make_shared<std::multiset<std::string>>();

  BlockFiller filler() const {
    return [*this](const std::vector<BlockSpec>& blocks) {
      ++*calls;
      std::vector<LatencyRow> rows;
      for (const auto& b : blocks) {
        measured->insert(b.key());  // serialised by the predictor's mutex
        LatencyRow r;
        r.key = b.key();
        r.stats.median_ms = fake->block_ms(b);
        rows.push_back(r);
      }
      return rows;
    };
  }
};

TEST(FillingLutPredictor, FillsEachMissingBlockOnceAndMatchesACompleteTable) {
  const SearchSpace& space = get_space("efficientformer");
  CountingFiller c;
  const double overhead = 0.25;
  FillingLutPredictor pred(LutLatencyPredictor::from_rows({}, overhead, std::nullopt, "empty"),
                           c.filler());
  std::vector<Network> nets;
  Rng rng(3);
  for (int i = 0; i < 40; ++i) nets.push_back(space.decode(space.sample(rng)));
  // Four threads predict the same networks at once.
  std::vector<std::vector<double>> got(4, std::vector<double>(nets.size()));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (std::size_t i = 0; i < nets.size(); ++i) got[t][i] = pred.predict_ms(nets[i]);
    });
  for (auto& th : threads) th.join();

  std::set<std::string> unique_blocks;
  for (const auto& n : nets)
    for (const auto& b : n.blocks) unique_blocks.insert(b.key());
  EXPECT_EQ(c.measured->size(), unique_blocks.size());  // no block measured twice
  EXPECT_EQ(std::set<std::string>(c.measured->begin(), c.measured->end()), unique_blocks);
  const FillReport rep = pred.report();
  EXPECT_EQ(rep.rows, unique_blocks.size());
  EXPECT_EQ(rep.fills, static_cast<std::size_t>(c.calls->load()));
  EXPECT_LE(rep.fills, nets.size());
  for (std::size_t i = 0; i < nets.size(); ++i) {
    double sum = overhead;  // the hand sum: overhead + the fake backend's block medians
    for (const auto& b : nets[i].blocks) sum += c.fake->block_ms(b);
    for (int t = 0; t < 4; ++t) EXPECT_NEAR(got[t][i], sum, 1e-9 * sum);
  }
  // Everything present now: no further fill.
  const int calls = c.calls->load();
  pred.predict_ms(nets.front());
  EXPECT_EQ(c.calls->load(), calls);
  EXPECT_EQ(pred.table()->rows(), unique_blocks.size());
}

TEST(FillingLutPredictor, FillerErrorsPropagateAndLeaveTheTable) {
  const SearchSpace& space = get_space("efficientformer");
  FillingLutPredictor pred(LutLatencyPredictor::from_rows({}, 0, std::nullopt, "empty"),
                           [](const std::vector<BlockSpec>&) -> std::vector<LatencyRow> {
                             throw Error("device unreachable");
                           });
  EXPECT_THROW(pred.predict_ms(space.decode(space.resolve("l1"))), Error);
  EXPECT_EQ(pred.table()->rows(), 0u);
  EXPECT_EQ(pred.report().rows, 0u);
}

TEST(LutLatencyPredictor, OpenOrEmptyOnAMissingFile) {
  const std::string dir = test::make_temp_dir("hwnas-open-or-empty");
  const auto p = LutLatencyPredictor::open_or_empty(dir + "/none.db", "fake");
  EXPECT_EQ(p->rows(), 0u);
  EXPECT_EQ(p->device(), "fake");
  EXPECT_THROW(p->predict_ms(
                   get_space("efficientformer").decode(get_space("efficientformer").resolve("l1"))),
               Error);
  EXPECT_THROW(LutLatencyPredictor::open(dir + "/none.db", "fake"), Error);
}

}  // namespace
}  // namespace hwnas
