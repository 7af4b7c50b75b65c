#include "spaces/efficientformer_space.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <unordered_set>

#include "core/error.h"
#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

const SearchSpace& space() { return get_space("efficientformer"); }

// Published figures (SPACES.md; params are timm's counts, both classifier heads included).
struct Published {
  const char* name;
  std::int64_t params;
  double gmacs;
};
constexpr Published kPublished[] = {
    {"l1", 12'289'928, 1.3}, {"l3", 31'406'000, 3.9}, {"l7", 82'229'328, 10.2}};

TEST(EfficientFormer, NamedMembersHaveTimmParamsExactly) {
  for (const auto& p : kPublished) {
    const Network net = space().decode(space().resolve(p.name));
    EXPECT_EQ(net.params(), p.params) << p.name;
  }
}

TEST(EfficientFormer, NamedMembersMacsWithinTwoPercentOfPaper) {
  for (const auto& p : kPublished) {
    const double gmacs = static_cast<double>(space().decode(space().resolve(p.name)).macs()) / 1e9;
    EXPECT_NEAR(gmacs / p.gmacs, 1.0, 0.02) << p.name << ": " << gmacs << " GMACs";
  }
}

TEST(EfficientFormer, L1DecodesToTimmStructure) {
  const Network net = space().decode(space().resolve("l1"));
  // stem + 3 + (ds + 2) + (ds + 6) + (ds + 3 meta4d + flatten + 1 meta3d) + head
  ASSERT_EQ(net.blocks.size(), 1u + 3 + 3 + 7 + 6 + 1);
  EXPECT_EQ(net.blocks.front().key(), "stem:cin=3,c=48,h=224,w=224");
  EXPECT_EQ(net.blocks[4].key(), "downsample:cin=48,c=96,h=56,w=56");
  EXPECT_EQ(net.blocks[18].key(), "flatten:c=448,h=7,w=7");
  EXPECT_EQ(net.blocks[19].key(), "meta3d:c=448,h=7,w=7,heads=8,kd=32,ar=4,mlp=4");
  EXPECT_EQ(net.blocks.back().key(), "head:c=448,n=49,classes=1000,dist=1");
  EXPECT_NO_THROW(net.check_shapes());
  EXPECT_EQ(net.num_classes(), 1000);
}

TEST(EfficientFormer, ArchJsonUsesTimmNames) {
  const auto j = space().to_json(space().resolve("l1"));
  EXPECT_EQ(j,
            nlohmann::json::parse(R"({"space": "efficientformer", "embed_dims": [48, 96, 224, 448],
      "depths": [3, 2, 6, 4], "num_vit": 1, "resolution": 224})"));
}

TEST(EfficientFormer, SamplesMutationsAndCrossoversAreValidAndRoundTrip) {
  Rng rng(7);
  for (int i = 0; i < 2000; ++i) {
    const Arch a = space().sample(rng), b = space().sample(rng);
    const Arch m = space().mutate(a, rng, 0.3), x = space().crossover(a, b, rng);
    for (const Arch* arch : {&a, &m, &x}) {
      ASSERT_NO_THROW(space().validate(*arch));
      const Network net = space().decode(*arch);
      ASSERT_NO_THROW(net.check_shapes());
      EXPECT_EQ(space().from_json(space().to_json(*arch)), *arch);
      EXPECT_EQ(space().from_json(nlohmann::json::parse(space().to_json(*arch).dump())), *arch);
    }
  }
}

TEST(EfficientFormer, SameSeedSameSamplesOtherSeedOtherSamples) {
  Rng a(42), b(42), c(43);
  std::vector<Arch> sa, sb, sc;
  for (int i = 0; i < 50; ++i) {
    sa.push_back(space().sample(a));
    sb.push_back(space().sample(b));
    sc.push_back(space().sample(c));
  }
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
}

TEST(EfficientFormer, SamplingCoversEveryOption) {
  Rng rng(1);
  std::vector<std::set<int>> seen(space().dims().size());
  for (int i = 0; i < 5000; ++i) {
    const Arch a = space().sample(rng);
    for (std::size_t d = 0; d < a.genes.size(); ++d) seen[d].insert(a.genes[d]);
  }
  for (std::size_t d = 0; d < seen.size(); ++d)
    EXPECT_EQ(seen[d].size(), space().dims()[d].options.size()) << space().dims()[d].name;
}

// efficientformer-fmnist caps num_vit (0..2) below its largest stage-4 depth (3): samples must
// respect the option list as well as num_vit <= depth3.
TEST(EfficientFormer, FmnistSamplesStayInsideTheSpace) {
  const SearchSpace& fm = get_space("efficientformer-fmnist");
  Rng rng(3);
  std::set<int> vit;
  for (int i = 0; i < 500; ++i) {
    const Arch a = fm.sample(rng);
    ASSERT_NO_THROW(fm.validate(a)) << fm.to_json(a).dump();
    ASSERT_NO_THROW(fm.validate(fm.mutate(a, rng, 0.5)));
    vit.insert(fm.to_json(a)["num_vit"].get<int>());
  }
  EXPECT_EQ(vit, (std::set<int>{0, 1, 2}));
}

TEST(EfficientFormer, EnumeratedBlocksCoverEverySampledNetwork) {
  const auto blocks = space().enumerate_blocks(224);
  // Width options per stage: 5, 9, 17, 33. stems 5, meta4d 5+9+17+33,
  // downsamples 5*9+9*17+17*33, flatten/meta3d/head 33 each.
  EXPECT_EQ(blocks.size(), 5u + 64 + (45 + 153 + 561) + 3 * 33);
  std::unordered_set<BlockSpec, BlockSpecHash> universe(blocks.begin(), blocks.end());
  EXPECT_EQ(universe.size(), blocks.size());
  Rng rng(3);
  for (int i = 0; i < 1000; ++i)
    for (const auto& b : space().decode(space().sample(rng)).blocks)
      ASSERT_TRUE(universe.count(b)) << b.key();
  for (const auto& [name, arch] : space().named())
    for (const auto& b : space().decode(arch).blocks) EXPECT_TRUE(universe.count(b)) << b.key();
  EXPECT_THROW(space().enumerate_blocks(225), Error);
}

TEST(EfficientFormer, LargestAndSmallestBoundTheSpace) {
  const Network big = space().decode(space().largest());
  const Network small = space().decode(space().smallest());
  Rng rng(5);
  for (int i = 0; i < 300; ++i) {
    const Network n = space().decode(space().sample(rng));
    EXPECT_LE(n.macs(), big.macs());
    EXPECT_GE(n.macs(), small.macs());
  }
}

TEST(EfficientFormer, OtherResolutionsDecodeWithTheirGrid) {
  const Arch a = space().from_json(nlohmann::json::parse(
      R"({"space":"efficientformer","embed_dims":[48,96,224,448],"depths":[3,2,6,4],"num_vit":1,"resolution":256})"));
  const Network net = space().decode(a);
  EXPECT_EQ(net.blocks[19].key(), "meta3d:c=448,h=8,w=8,heads=8,kd=32,ar=4,mlp=4");
  EXPECT_NO_THROW(net.check_shapes());
}

TEST(EfficientFormer, BadArchsGiveClearErrors) {
  auto bad = [&](const std::string& json, const std::string& needle) {
    try {
      space().resolve(json);
      ADD_FAILURE() << "accepted: " << json;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  const std::string ok_tail = R"("depths":[3,2,6,4],"num_vit":1,"resolution":224})";
  bad(R"({"space":"efficientformer","embed_dims":[50,96,224,448],)" + ok_tail, "width0");
  bad(R"({"space":"efficientformer","embed_dims":[48,96,224],)" + ok_tail, "embed_dims");
  bad(R"({"space":"elsewhere","embed_dims":[48,96,224,448],)" + ok_tail, "space");
  bad(R"({"space":"efficientformer","embed_dims":[48,96,224,448],"extra":1,)" + ok_tail,
      "unknown key 'extra'");
  bad(R"({"space":"efficientformer","embed_dims":[48,96,224,448],"depths":[3,2,6,4],"num_vit":5,"resolution":224})",
      "num_vit");
  bad(R"({"space":"efficientformer","embed_dims":[48,96,224,448],"depths":[3,2,6,4],"resolution":224})",
      "num_vit");
  bad(R"({"space":"efficientformer","embed_dims":[48,96,224,448],"depths":[3,2,6,4],"num_vit":1,"resolution":100})",
      "resolution");
  bad(R"({"space":"efficientformer","embed_dims":[48,96,224,448],"depths":[3,2,6,4],"num_vit":1.5,"resolution":224})",
      "integer");
  bad("{oops", "malformed JSON");
  bad("l9", "named member");
  bad("/nonexistent/arch.json", "cannot read");
  EXPECT_THROW(get_space("mobilenet"), Error);
}

TEST(EfficientFormer, ArchFileIsAccepted) {
  const std::string dir = test::make_temp_dir("hwnas-arch");
  const std::string path = dir + "/l3.json";
  std::ofstream(path) << space().to_json(space().resolve("l3")).dump(2);
  EXPECT_EQ(space().resolve(path), space().resolve("l3"));
  EXPECT_EQ(space().member_name(space().resolve(path)), "l3");
}

}  // namespace
}  // namespace hwnas
