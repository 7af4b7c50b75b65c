// Mixed-precision latency (predictors/mixed_precision_latency.h) against a hand sum of two
// tables' rows.
#include "predictors/mixed_precision_latency.h"

#include <gtest/gtest.h>

#include "spaces/precision_genes.h"
#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

// Rows for every block of `net`: fp32 block i takes 1 + i ms, int8 block i takes 0.25 + i / 8
// ms, so every block and table contributes a distinct amount.
std::vector<LatencyRow> rows(const Network& net, bool int8) {
  std::vector<LatencyRow> out;
  for (std::size_t i = 0; i < net.blocks.size(); ++i) {
    LatencyRow r;
    r.key = net.blocks[i].key();
    r.stats.median_ms = int8 ? 0.25 + static_cast<double>(i) / 8 : 1.0 + static_cast<double>(i);
    out.push_back(r);
  }
  return out;
}

TEST(MixedPrecisionLatency, SumsEachBlockFromTheTableOfItsPrecision) {
  const SearchSpace& space = get_space("efficientformer-fmnist+precision");
  nlohmann::json j = space.to_json(space.resolve("s"));
  j["precision"] = {"fp32", "int8", "fp32", "int8"};
  const Network net = space.decode(space.from_json(j));
  std::shared_ptr<const LutLatencyPredictor> fp32 =
      LutLatencyPredictor::from_rows(rows(net, false), 0.5, std::nullopt, "fp32");
  std::shared_ptr<const LutLatencyPredictor> int8 =
      LutLatencyPredictor::from_rows(rows(net, true), 0.125, std::nullopt, "int8");
  const MixedPrecisionLatency mixed(fp32, int8);
  // Blocks 0-1 fp32 (1 + 2), 2-3 int8 (0.5 + 0.625), 4-5 fp32 (5 + 6), 6-9 int8
  // (1 + 1.125 + 1.25 + 1.375), and the fp32 table's overhead once: 0.5.
  EXPECT_DOUBLE_EQ(mixed.predict_ms(net), 3 + 1.125 + 11 + 4.75 + 0.5);
  // Validation's features: the same sum, every block counted once under its kind.
  const LatencyFeatures f = mixed.features(net);
  EXPECT_DOUBLE_EQ(f.plain_ms, mixed.predict_ms(net));
  const auto meta4d = static_cast<std::size_t>(BlockKind::meta4d);
  EXPECT_EQ(f.kind_count[meta4d], 4);
  EXPECT_DOUBLE_EQ(f.kind_ms[meta4d], 2 + 0.625 + 6 + 1.125);  // blocks 1, 3, 5, 7
  // All fp32: the fp32 table's own prediction.
  j["precision"] = {"fp32", "fp32", "fp32", "fp32"};
  const Network plain = space.decode(space.from_json(j));
  EXPECT_DOUBLE_EQ(mixed.predict_ms(plain), fp32->predict_ms(plain));
  // One table alone refuses a network with int8 stages rather than predict it in fp32.
  EXPECT_NE(test::error_of([&] { fp32->predict_ms(net); }).find("has int8 stages"),
            std::string::npos);
  // A missing int8 row names the int8 table.
  auto partial = rows(net, true);
  partial.erase(partial.begin() + 7);
  const MixedPrecisionLatency gap(
      fp32, LutLatencyPredictor::from_rows(partial, 0.125, std::nullopt, "int8"));
  EXPECT_NE(test::error_of([&] { gap.predict_ms(net); }).find(net.blocks[7].key()),
            std::string::npos);
  EXPECT_EQ(mixed.source(), "mixed:fp32+int8");
}

}  // namespace
}  // namespace hwnas
