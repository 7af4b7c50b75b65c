// The SearchSpace base operators (mutate, crossover) on the EfficientFormer space.
#include "spaces/search_space.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "core/rng.h"

#include "spaces/registry.h"

namespace hwnas {
namespace {

const SearchSpace& space() { return get_space("efficientformer"); }

TEST(Rng, RandomPermutationIsAPermutationFixedByTheSeed) {
  Rng a(11), b(11), c(12);
  const auto pa = random_permutation(50, a);
  EXPECT_EQ(pa, random_permutation(50, b));
  EXPECT_NE(pa, random_permutation(50, c));
  std::vector<std::size_t> sorted = pa;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_TRUE(random_permutation(0, a).empty());
  // Uniform: each of the 6 orders of 3 items comes up about 1/6 of 6000 draws.
  std::map<std::vector<std::size_t>, int> counts;
  for (int i = 0; i < 6000; ++i) ++counts[random_permutation(3, a)];
  ASSERT_EQ(counts.size(), 6u);
  for (const auto& [order, n] : counts) EXPECT_NEAR(n, 1000, 150);
}

TEST(SearchSpace, MutationWithZeroProbabilityIsIdentity) {
  Rng rng(11);
  for (int i = 0; i < 200; ++i) {
    const Arch a = space().sample(rng);
    EXPECT_EQ(space().mutate(a, rng, 0.0), a);
  }
}

TEST(SearchSpace, MutationWithProbabilityOneChangesEveryFreeGene) {
  Rng rng(12);
  const auto& dims = space().dims();
  for (int i = 0; i < 200; ++i) {
    const Arch a = space().sample(rng);
    const Arch m = space().mutate(a, rng, 1.0);
    for (std::size_t d = 0; d < dims.size(); ++d) {
      // num_vit may be clamped back by repair; single-option dims cannot change.
      if (dims[d].options.size() < 2 || dims[d].name == "num_vit") continue;
      EXPECT_NE(m.genes[d], a.genes[d]) << dims[d].name;
    }
  }
}

TEST(SearchSpace, CrossoverTakesEachGeneFromAParent) {
  Rng rng(13);
  const auto& dims = space().dims();
  for (int i = 0; i < 500; ++i) {
    const Arch a = space().sample(rng), b = space().sample(rng);
    const Arch x = space().crossover(a, b, rng);
    for (std::size_t d = 0; d < dims.size(); ++d) {
      if (dims[d].name == "num_vit") {
        EXPECT_LE(x.genes[d], std::max(a.genes[d], b.genes[d]));
        continue;
      }
      EXPECT_TRUE(x.genes[d] == a.genes[d] || x.genes[d] == b.genes[d]) << dims[d].name;
    }
  }
}

TEST(SearchSpace, OptionIndexFindsValues) {
  EXPECT_EQ(space().option_index(0, 32), 0);
  EXPECT_EQ(space().option_index(0, 96), 4);
  EXPECT_EQ(space().option_index(0, 40), -1);
}

// The cold-weights rows time a block that reads the network's image on a cold input
// (profilers/block_timing.h): in every space only the first block of a network is of such a kind.
TEST(SearchSpace, OnlyTheFirstBlockOfEveryNetworkReadsTheNetworksInput) {
  Rng rng(14);
  for (const std::string& name : space_names()) {
    const SearchSpace& s = get_space(name);
    for (int i = 0; i < 20; ++i) {
      const Network net = s.decode(s.sample(rng));
      ASSERT_FALSE(net.blocks.empty()) << name;
      EXPECT_TRUE(block_reads_network_input(net.blocks.front().kind))
          << name << ": " << net.blocks.front().key();
      for (std::size_t b = 1; b < net.blocks.size(); ++b)
        EXPECT_FALSE(block_reads_network_input(net.blocks[b].kind))
            << name << ": block " << b << " " << net.blocks[b].key();
    }
  }
}

}  // namespace
}  // namespace hwnas
