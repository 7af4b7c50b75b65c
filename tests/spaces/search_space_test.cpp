// The SearchSpace base operators (mutate, crossover) on the EfficientFormer space.
#include "spaces/search_space.h"

#include <gtest/gtest.h>

#include "spaces/registry.h"

namespace hwnas {
namespace {

const SearchSpace& space() { return get_space("efficientformer"); }

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

}  // namespace
}  // namespace hwnas
