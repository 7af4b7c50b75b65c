#include "spaces/block_spec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.h"
#include "spaces/block_kind_registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

TEST(BlockSpec, KeyRoundTripsForEveryKind) {
  for (std::size_t k = 0; k < kBlockKindCount; ++k) {
    const auto kind = static_cast<BlockKind>(k);
    std::vector<int> attrs;
    for (std::size_t i = 0; i < block_attr_names(kind).size(); ++i) attrs.push_back(int(3 + 7 * i));
    const BlockSpec spec = BlockSpec::make(kind, attrs);
    const BlockSpec back = BlockSpec::parse(spec.key());
    EXPECT_EQ(back, spec) << spec.key();
    EXPECT_EQ(back.key(), spec.key());
    EXPECT_EQ(BlockSpecHash{}(back), BlockSpecHash{}(spec));
  }
}

TEST(BlockSpec, KeyFormatIsCanonical) {
  const BlockSpec b{BlockKind::meta4d, {48, 56, 56, 3, 4}};
  EXPECT_EQ(b.key(), "meta4d:c=48,h=56,w=56,pool=3,mlp=4");
  // Attribute order in the input does not matter; the key is canonical.
  EXPECT_EQ(BlockSpec::parse("meta4d:mlp=4,pool=3,w=56,h=56,c=48"), b);
  EXPECT_EQ(b.get("pool"), 3);
}

TEST(BlockSpec, BadKeysGiveErrors) {
  for (const char* bad :
       {"meta4d", "nope:c=1", "meta4d:c=48,h=56,w=56,pool=3",
        "meta4d:c=48,h=56,w=56,pool=3,mlp=4,x=1", "meta4d:c=48,c=48,h=56,w=56,pool=3",
        "meta4d:c=4x,h=56,w=56,pool=3,mlp=4", "meta4d:c=-1,h=56,w=56,pool=3,mlp=4",
        "meta4d:c48,h=56,w=56,pool=3,mlp=4"})
    EXPECT_THROW(BlockSpec::parse(bad), Error) << bad;
  EXPECT_THROW(BlockSpec::make(BlockKind::stem, {1, 2}), Error);
  EXPECT_THROW((BlockSpec{BlockKind::stem, {3, 48, 224, 224}}).get("mlp"), Error);
}

// Hand computations (timm layer shapes) for one block of each kind.
TEST(BlockSpec, CostsMatchHandCount) {
  // stem 3->24->48 at 224: conv1 3*9*24+24, BN 48; conv2 24*9*48+48, BN 96.
  const BlockCost stem = block_cost({BlockKind::stem, {3, 48, 224, 224}});
  EXPECT_EQ(stem.params, 3 * 9 * 24 + 24 + 48 + 24 * 9 * 48 + 48 + 96);
  EXPECT_EQ(stem.macs, 112LL * 112 * 24 * 27 + 56LL * 56 * 48 * 24 * 9);
  const BlockCost m4 = block_cost({BlockKind::meta4d, {48, 56, 56, 3, 4}});
  EXPECT_EQ(m4.params, 96 + (48 * 192 + 192 + 384) + (192 * 48 + 48 + 96));
  EXPECT_EQ(m4.macs, 2LL * 56 * 56 * 48 * 192);
  const BlockCost m3 = block_cost({BlockKind::meta3d, {448, 7, 7, 8, 32, 4, 4}});
  // qkv 448->1536, proj 1024->448, 8x49 biases, fc1 448->1792, fc2 1792->448, 2 LN, 2 ls.
  EXPECT_EQ(m3.params, 448 * 1536 + 1536 + 1024 * 448 + 448 + 8 * 49 + 448 * 1792 + 1792 +
                           1792 * 448 + 448 + 4 * 448 + 2 * 448);
  EXPECT_EQ(m3.macs, 49LL * 448 * 1536 + 8LL * 49 * 49 * (32 + 128) + 49LL * 1024 * 448 +
                         2LL * 49 * 448 * 1792);
  const BlockCost head = block_cost({BlockKind::head, {448, 49, 1000, 1}});
  EXPECT_EQ(head.params, 2 * 448 + 2 * (448 * 1000 + 1000));
  EXPECT_EQ(block_cost({BlockKind::flatten, {448, 7, 7}}).params, 0);
}

TEST(BlockSpec, ShapesFollowStrideTwoConvolutions) {
  EXPECT_EQ(block_output_shape({BlockKind::stem, {3, 48, 224, 224}}), (FeatureShape{56, 56, 48}));
  EXPECT_EQ(block_output_shape({BlockKind::stem, {3, 32, 65, 63}}), (FeatureShape{17, 16, 32}));
  EXPECT_EQ(block_output_shape({BlockKind::downsample, {48, 96, 7, 7}}), (FeatureShape{4, 4, 96}));
  EXPECT_EQ(block_output_shape({BlockKind::flatten, {448, 7, 7}}), (FeatureShape{1, 49, 448}));
}

TEST(BlockSpec, AVariantKeysTheAttributesThatSwitchOperations) {
  // Hiera's pooled-query transition block and ElasticViT's MBConv with squeeze-excite run other
  // operations than their neighbours of the same sizes; a meta4d has no such attribute.
  EXPECT_EQ(block_variant(BlockSpec::parse("hiera_block:cin=96,c=192,h=28,w=28,heads=2,mu=4,"
                                           "qpool=1,mlp=4")),
            "hiera_block:mu=4,qpool=1");
  EXPECT_EQ(block_variant(BlockSpec::parse("evit_mbconv:cin=48,c=96,h=28,w=28,expand=6,k=3,"
                                           "stride=2,se=1")),
            "evit_mbconv:stride=2,se=1");
  EXPECT_EQ(block_variant(BlockSpec::parse("meta4d:c=48,h=56,w=56,pool=3,mlp=4")), "meta4d");
  // Every variant attribute of block_kind.def is one of its kind's attributes, in key order.
  for (std::size_t k = 0; k < kBlockKindCount; ++k) {
    const auto kind = static_cast<BlockKind>(k);
    const auto& names = block_attr_names(kind);
    std::size_t from = 0;
    for (auto v : block_variant_attrs(kind)) {
      const auto it = std::find(names.begin() + static_cast<std::ptrdiff_t>(from), names.end(), v);
      ASSERT_NE(it, names.end()) << block_kind_name(kind) << ": " << v;
      from = static_cast<std::size_t>(it - names.begin()) + 1;
    }
  }
}

TEST(BlockSpec, ARegisteredKindsVariantAttributeMustBeOneOfItsAttributes) {
  auto shape = [](const BlockSpec&) { return FeatureShape{1, 1, 1}; };
  auto cost = [](const BlockSpec&) { return BlockCost{}; };
  BlockKindDef def{"variant_probe", "probe", {"c", "h", "w"}, shape, shape, cost};
  def.variant_attrs = {"se"};
  try {
    register_block_kind(def);
    FAIL() << "a variant attribute outside the attributes was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("variant attribute 'se' is not one of its attributes"),
              std::string::npos)
        << e.what();
  }
  // Out of key order, or repeated: the variant name would depend on how the kind was written.
  for (const auto& variant : {std::vector<std::string>{"w", "c"}, {"h", "h"}}) {
    def.variant_attrs = variant;
    EXPECT_NE(test::error_of([&] { register_block_kind(def); }).find("out of key order"),
              std::string::npos)
        << variant[0] << "," << variant[1];
  }
  def.variant_attrs = {"c", "w"};
  def.name = "variant_probe_in_order";
  EXPECT_EQ(block_variant(BlockSpec::make(register_block_kind(def), {8, 4, 2})),
            "variant_probe_in_order:c=8,w=2");
}

}  // namespace
}  // namespace hwnas
