// Block timing mode selection: sysfs cache sizes parsed by hand, and the auto rule's threshold.
#include <gtest/gtest.h>

#include "profilers/block_timing.h"

namespace hwnas {
namespace {

TEST(BlockTiming, ParsesSysfsCacheSizes) {
  EXPECT_EQ(parse_cache_size("32768K"), 32LL * 1024 * 1024);
  EXPECT_EQ(parse_cache_size("1024K\n"), 1024LL * 1024);
  EXPECT_EQ(parse_cache_size("32M"), 32LL << 20);
  EXPECT_EQ(parse_cache_size("512"), 512);
  EXPECT_EQ(parse_cache_size(""), 0);
  EXPECT_EQ(parse_cache_size("K"), 0);
  EXPECT_EQ(parse_cache_size("12Q"), 0);
  EXPECT_EQ(parse_cache_size("-4K"), 0);
}

TEST(BlockTiming, AutoIsHotOnlyWhenTheWeightsFitHalfTheCache) {
  const std::int64_t llc = last_level_cache_bytes();
  ASSERT_GT(llc, 0);
  EXPECT_EQ(block_timing_for_weights(llc / 2), BlockTiming::hot);
  EXPECT_EQ(block_timing_for_weights(llc / 2 + 1), BlockTiming::cold_weights);
}

}  // namespace
}  // namespace hwnas
