#include "spaces/turbovit_space.h"

#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "core/json_util.h"
#include "spaces/hiera_network.h"
#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

const TurboVitSpace& space() { return dynamic_cast<const TurboVitSpace&>(get_space("turbovit")); }

nlohmann::json golden_hiera() { return read_json_file(test::golden_dir() + "/hiera_small.json"); }

TEST(Hiera, GoldenHieraSmallDecodesToTimmParamCount) {
  const auto g = golden_hiera();
  const Network net = hiera_network(hiera_config_from_timm(g.at("arch")), "hiera");
  EXPECT_EQ(net.params(), g.at("params").get<std::int64_t>());  // 4,155,736
  EXPECT_EQ(net.params(), 4'155'736);
  ASSERT_NO_THROW(net.check_shapes());
}

TEST(Hiera, GoldenBlockTableAndStageShapes) {
  const auto g = golden_hiera();
  const Network net = hiera_network(hiera_config_from_timm(g.at("arch")), "hiera");
  ASSERT_EQ(net.blocks.size(), 1u + 8 + 1);
  const auto& blocks = g.at("blocks");
  for (std::size_t i = 0; i < 8; ++i) {
    const BlockSpec& b = net.blocks[i + 1];
    const auto& gb = blocks.at(i);
    EXPECT_EQ(b.get("cin"), gb.at("dim").get<int>()) << i;
    EXPECT_EQ(b.get("c"), gb.at("dim_out").get<int>()) << i;
    EXPECT_EQ(b.get("heads"), gb.at("heads").get<int>()) << i;
    EXPECT_EQ(b.get("qpool"), gb.at("q_stride").get<int>() == 4 ? 1 : 0) << i;
    EXPECT_EQ(b.get("mu") > 0, gb.at("mask_unit_attn").get<bool>()) << i;
    if (b.get("mu") > 0) {  // pre-pool window = q_stride * window after pool (tokens)
      const int pre = gb.at("q_stride").get<int>() * gb.at("window_size_after_pool").get<int>();
      EXPECT_EQ(b.get("mu") * b.get("mu"), pre) << i;
    }
  }
  // Stage ends at blocks 0, 2, 6, 7 (golden stage_shapes: tokens, channels).
  const auto tokens = [&](std::size_t block) {
    const FeatureShape o = block_output_shape(net.blocks[block]);
    return std::vector<int>{1, o.h * o.w, o.c};
  };
  const auto& st = g.at("stage_shapes");
  EXPECT_EQ(tokens(1), st.at("stage0").get<std::vector<int>>());
  EXPECT_EQ(tokens(3), st.at("stage1").get<std::vector<int>>());
  EXPECT_EQ(tokens(7), st.at("stage2").get<std::vector<int>>());
  EXPECT_EQ(tokens(8), st.at("stage3").get<std::vector<int>>());
}

TEST(Hiera, BlockMacsByHand) {
  // Block 1 of Hiera-S: 48 -> 96 on 56x56, 8x8 mask units, Q-pool, mlp 4.
  // qkv 3136*48*288, shortcut 3136*48*96, QK^T and AV 2*784*64*96, proj 784*96*96,
  // MLP 2*784*96*384.
  const BlockSpec b{BlockKind::hiera_block, {48, 96, 56, 56, 2, 8, 1, 4}};
  EXPECT_EQ(block_cost(b).macs, 3136LL * 48 * 288 + 3136LL * 48 * 96 + 2LL * 784 * 64 * 96 +
                                    784LL * 96 * 96 + 2LL * 784 * 96 * 384);
  EXPECT_EQ(block_output_shape(b), (FeatureShape{28, 28, 96}));
  EXPECT_THROW(block_cost(BlockSpec{BlockKind::hiera_block, {48, 96, 56, 56, 2, 5, 1, 4}}), Error);
}

TEST(TurboViT, SummaryAndDefinitionSayReconstructed) {
  EXPECT_NE(space().summary().find("RECONSTRUCTED"), std::string::npos);
  EXPECT_NE(space().summary().find("not public"), std::string::npos);
  EXPECT_TRUE(
      space().export_config(space().resolve("turbovit-ref")).at("reconstructed").get<bool>());
}

TEST(TurboViT, ReferenceMemberIsUnderThePublishedComplexityClaims) {
  const Network net = space().decode(space().resolve("turbovit-ref"));
  ASSERT_NO_THROW(net.check_shapes());
  // <= FasterViT-0's 31.4 M / 2.47 and near it; <= MobileViTV2-2.0's 7.5 GMACs / 3.4.
  EXPECT_LE(net.params(), 12'700'000);
  EXPECT_GE(net.params(), 10'000'000);
  EXPECT_LE(static_cast<double>(net.macs()), 2.2e9);
  // Hand count (independent script over the Hiera formulas): 11,263,576 params, 1,897,413,120 MACs.
  EXPECT_EQ(net.params(), 11'263'576);
  EXPECT_EQ(net.macs(), 1'897'413'120);
  EXPECT_EQ(space().to_json(space().resolve("turbovit-ref")).at("widths"),
            nlohmann::json({48, 96, 192, 384}));
}

TEST(TurboViT, WidthRuleRoundsToMultiplesOf16) {
  EXPECT_EQ(TurboVitSpace::stage_widths(48, 15, 15, 20),
            (std::vector<int>{48, 80, 128, 256}));  // 72 -> 80
  EXPECT_EQ(TurboVitSpace::stage_widths(64, 20, 15, 15), (std::vector<int>{64, 128, 192, 288}));
}

TEST(TurboViT, SamplesMutationsCrossoversValidAndRoundTrip) {
  Rng rng(3);
  for (int i = 0; i < 3000; ++i) {
    const Arch a = space().sample(rng), b = space().sample(rng);
    const Arch m = space().mutate(a, rng, 0.4), x = space().crossover(a, b, rng);
    for (const Arch* arch : {&a, &m, &x}) {
      ASSERT_NO_THROW(space().validate(*arch));
      ASSERT_EQ(space().from_json(nlohmann::json::parse(space().to_json(*arch).dump())), *arch);
    }
    if (i % 10 == 0) {
      ASSERT_NO_THROW(space().decode(a).check_shapes());
    }
  }
}

TEST(TurboViT, BadInputGivesClearErrors) {
  const auto err = [&](const std::string& text) {
    try {
      space().from_json(nlohmann::json::parse(text));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string base = R"("space": "turbovit", "embed_dim": 48, "depths": [1, 2, 12, 3],
      "mlp_ratio": [4, 4, 4, 4], "mask_unit": 8, "resolution": 224)";
  EXPECT_NE(err("{" + base + R"(, "width_mult": [2, 2, 2], "head_dim": [32, 32, 64, 64]})")
                .find("head_dim_s1"),
            std::string::npos);
  EXPECT_NE(err("{" + base + R"(, "width_mult": [2, 3, 2], "head_dim": [16, 32, 64, 64]})")
                .find("width_mult"),
            std::string::npos);
  EXPECT_NE(
      err("{" + base +
          R"(, "width_mult": [2, 2, 2], "head_dim": [16, 32, 64, 64], "widths": [48, 96, 192, 385]})")
          .find("widths"),
      std::string::npos);
  EXPECT_THROW(space().enumerate_blocks(256), Error);
}

TEST(TurboViT, EnumerateBlocksCoversSampledNetworks) {
  const auto blocks = space().enumerate_blocks(224);
  std::set<std::string> keys;
  for (const auto& b : blocks) ASSERT_TRUE(keys.insert(b.key()).second);
  Rng rng(12);
  for (int i = 0; i < 500; ++i)
    for (const auto& b : space().decode(space().sample(rng)).blocks)
      ASSERT_TRUE(keys.count(b.key())) << b.key();
}

// turbovit-fmnist: the same decoder over the Fashion-MNIST proxy definition.
const TurboVitSpace& fmnist() {
  return dynamic_cast<const TurboVitSpace&>(get_space("turbovit-fmnist"));
}

TEST(TurboVitFmnist, NamedMembersAreTheExtremesAndTheUnionFitsTheCheckpointBound) {
  EXPECT_EQ(fmnist().resolve("s"), fmnist().smallest());
  EXPECT_EQ(fmnist().resolve("l"), fmnist().largest());
  const HieraConfig l = fmnist().hiera_config(fmnist().largest());
  EXPECT_EQ(l.widths, (std::vector<int>{32, 64, 128, 256}));
  EXPECT_EQ(l.depths, (std::vector<int>{2, 2, 3, 2}));
  EXPECT_EQ(l.in_channels, 1);
  EXPECT_EQ(l.num_classes, 10);
  const Network net = fmnist().decode(fmnist().largest());
  ASSERT_NO_THROW(net.check_shapes());
  // 64x64 input: 16x16 tokens at stage 1, 2x2 at stage 4 (the head's map).
  EXPECT_EQ(net.blocks.back().get("h"), 2);
  // F32 checkpoint of the union network <= 20 MB (the Fashion-MNIST supernet contract).
  EXPECT_LE(net.params() * 4, 20'000'000);
}

TEST(TurboVitFmnist, SamplesAreValidAndHeadDimsDivideOddWidths) {
  Rng rng(5);
  std::set<int> stage1_widths;
  for (int i = 0; i < 500; ++i) {
    const Arch a = fmnist().sample(rng);
    ASSERT_NO_THROW(fmnist().validate(a));
    ASSERT_EQ(fmnist().from_json(fmnist().to_json(a)), a);
    stage1_widths.insert(fmnist().hiera_config(a).widths[0]);
  }
  EXPECT_EQ(stage1_widths, (std::set<int>{16, 24, 32}));
  // Width 24 takes only head dim 8: repair lowers 32 to it, validation names the legal ones.
  Arch a = fmnist().resolve("m");  // embed_dim 24
  a.genes[TurboVitSpace::kHeadDim] = 32;
  try {
    fmnist().validate(a);
    ADD_FAILURE() << "head dim 32 accepted for width 24";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("turbovit-fmnist: head_dim_s1 = 32"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("{8}"), std::string::npos) << e.what();
  }
  fmnist().repair(a);
  EXPECT_EQ(a.genes[TurboVitSpace::kHeadDim], 8);
}

TEST(TurboVitFmnist, EnumerateBlocksCoversSampledNetworks) {
  const auto blocks = fmnist().enumerate_blocks(64);
  std::set<std::string> keys;
  for (const auto& b : blocks) keys.insert(b.key());
  Rng rng(13);
  for (int i = 0; i < 300; ++i)
    for (const auto& b : fmnist().decode(fmnist().sample(rng)).blocks)
      ASSERT_TRUE(keys.count(b.key())) << b.key();
  EXPECT_THROW(fmnist().enumerate_blocks(224), Error);
}

}  // namespace
}  // namespace hwnas
