// The per-stage precision gene (spaces/precision_genes.h): stages follow the published stage
// tables, genes decode to per-block precisions, JSON is strict, and the operators stay valid
// and seeded.
#include "spaces/precision_genes.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

using test::error_of;

// Stage counts of the papers' stage tables: EfficientFormer's and Hiera's four stages.
TEST(PrecisionGenes, StagesAreTheSpacesResolutionStages) {
  for (const char* name :
       {"efficientformer", "efficientformer-fmnist", "turbovit", "turbovit-fmnist"})
    EXPECT_EQ(precision_stages(get_space(std::string(name) + "+precision")), 4) << name;
  // ElasticViT-fmnist at 128 px, by hand from `hwnas describe --arch l`: first conv and stem
  // at 64x64, C1 32x32, C2 16x16, T1 and T2 8x8 (T2 keeps T1's resolution), T3 4x4, T4 2x2: its
  // 7 named stages make 6 resolution stages.
  EXPECT_EQ(precision_stages(get_space("elasticvit-fmnist+precision")), 6);
  EXPECT_EQ(precision_stages(get_space("efficientformer")), 0);
}

TEST(PrecisionGenes, GenesMarkTheBlocksOfTheirStage) {
  const SearchSpace& space = get_space("efficientformer-fmnist+precision");
  // s: stem, meta4d | downsample, meta4d | downsample, meta4d | downsample, meta4d, flatten,
  // head (the 1 x 1 classifier stays with the last stage).
  nlohmann::json j = space.to_json(space.resolve("s"));
  j["precision"] = {"int8", "fp32", "fp32", "int8"};
  const Arch arch = space.from_json(j);
  const Network net = space.decode(arch);
  ASSERT_EQ(net.blocks.size(), 10u);
  const std::vector<std::uint8_t> want = {1, 1, 0, 0, 0, 0, 1, 1, 1, 1};
  EXPECT_EQ(net.block_int8, want);
  EXPECT_EQ(net.space, "efficientformer-fmnist");
  // The blocks are the base space's: latency tables and weights need nothing new.
  const SearchSpace& base = get_space("efficientformer-fmnist");
  EXPECT_EQ(net.blocks, base.decode(base.resolve("s")).blocks);
  EXPECT_TRUE(base.decode(base.resolve("s")).block_int8.empty());
  EXPECT_EQ(base_arch(space, arch), base.resolve("s"));
  EXPECT_EQ(&base_space(space), &base);
  EXPECT_EQ(space.to_json(arch), j);
}

TEST(PrecisionGenes, JsonIsStrict) {
  const SearchSpace& space = get_space("efficientformer-fmnist+precision");
  nlohmann::json j = space.to_json(space.resolve("m"));
  nlohmann::json none = j;
  none.erase("precision");
  EXPECT_NE(error_of([&] { space.from_json(none); }).find("needs a \"precision\" list of 4"),
            std::string::npos);
  nlohmann::json three = j;
  three["precision"] = {"int8", "int8", "int8"};
  EXPECT_NE(error_of([&] { space.from_json(three); }).find("must list 4 stages"),
            std::string::npos);
  nlohmann::json int4 = j;
  int4["precision"][2] = "int4";
  EXPECT_NE(error_of([&] { space.from_json(int4); }).find("\"precision\"[2] is \"int4\""),
            std::string::npos);
  Arch bad = space.resolve("m");
  bad.genes.back() = 16;
  EXPECT_NE(error_of([&] { space.decode(bad); }).find("precision3 is 16"), std::string::npos);
  bad.genes.pop_back();
  EXPECT_NE(error_of([&] { space.validate(bad); }).find("4 precision genes"), std::string::npos);
}

TEST(PrecisionGenes, OperatorsStayValidAndSeeded) {
  const SearchSpace& space = get_space("elasticvit-fmnist+precision");
  const std::size_t base_genes = get_space("elasticvit-fmnist").dims().size();
  Rng a(5), b(5);
  int int8_genes = 0, genes = 0;
  for (int i = 0; i < 200; ++i) {
    const Arch x = space.sample(a);
    EXPECT_EQ(x, space.sample(b));
    EXPECT_NO_THROW(space.validate(x));
    const Arch y = space.sample(a);
    (void)space.sample(b);
    const Arch child = space.crossover(x, y, a);
    EXPECT_EQ(child, space.crossover(x, y, b));
    EXPECT_NO_THROW(space.validate(child));
    for (std::size_t g = base_genes; g < child.genes.size(); ++g)
      EXPECT_TRUE(child.genes[g] == x.genes[g] || child.genes[g] == y.genes[g]);
    // Probability 1 flips every precision gene.
    const Arch flipped = space.mutate(x, a, 1.0);
    (void)space.mutate(x, b, 1.0);
    for (std::size_t g = base_genes; g < x.genes.size(); ++g) {
      EXPECT_NE(flipped.genes[g], x.genes[g]);
      int8_genes += x.genes[g] == 8;
      ++genes;
    }
    EXPECT_EQ(space.mutate(x, a, 0.0), x);
    (void)space.mutate(x, b, 0.0);
  }
  // Uniform over {int8, fp32}: 1200 genes, a standard deviation of about 17.
  EXPECT_NEAR(int8_genes, genes / 2, 70);
}

TEST(PrecisionGenes, ExtremesNamesAndRegistry) {
  const SearchSpace& space = get_space("turbovit-fmnist+precision");
  const auto tail = [](const Arch& a) {
    return std::vector<int>(a.genes.end() - 4, a.genes.end());
  };
  EXPECT_EQ(tail(space.largest()), (std::vector<int>{32, 32, 32, 32}));
  EXPECT_EQ(tail(space.smallest()), (std::vector<int>{8, 8, 8, 8}));
  ASSERT_EQ(space.named().size(), get_space("turbovit-fmnist").named().size());
  for (const auto& [member, arch] : space.named()) EXPECT_EQ(tail(arch), tail(space.largest()));
  EXPECT_EQ(space.name(), "turbovit-fmnist+precision");
  EXPECT_NE(error_of([] {
              get_space("turbovit-fmnist+precision+precision");
            }).find("already has precision genes"),
            std::string::npos);
  EXPECT_NE(error_of([] { get_space("nosuch+precision"); }).find("unknown search space 'nosuch'"),
            std::string::npos);
}

}  // namespace
}  // namespace hwnas
