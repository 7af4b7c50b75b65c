#include "spaces/elasticvit_space.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "core/error.h"
#include "core/json_util.h"
#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

const ElasticVitSpace& space() {
  return dynamic_cast<const ElasticVitSpace&>(get_space("elasticvit"));
}

nlohmann::json golden_t1() { return read_json_file(test::golden_dir() + "/elasticvit_t1.json"); }

// SPACES.md section 2: the reference code's FLOPs convention, published check values.
TEST(ElasticViT, ReferenceMflopsMatchSpacesMd) {
  const auto near = [](double got, double want) { return std::abs(got / want - 1.0) < 0.005; };
  EXPECT_PRED2(near, space().reference_mflops(space().resolve("t1")), 62.9);
  EXPECT_PRED2(near, space().reference_mflops(space().resolve("l1")), 517.1);
  EXPECT_PRED2(near, space().reference_mflops(space().smallest()), 37.4);
  EXPECT_PRED2(near, space().reference_mflops(space().largest()), 3191.0);
}

TEST(ElasticViT, T1ReferenceMflopsEqualGoldenJsonExactly) {
  const double code = golden_t1().at("mflops_code").get<double>();  // 62.91512
  EXPECT_NEAR(space().reference_mflops(space().resolve("t1")), code, 1e-9);
}

TEST(ElasticViT, T1ParamsEqualGoldenTensorsMinusBnRunningStats) {
  const auto g = golden_t1();
  std::int64_t total = 0;
  for (const auto& [name, shape] : g.at("parameters").items()) {
    if (name.find("running_") != std::string::npos) continue;
    std::int64_t n = 1;
    for (const auto& d : shape) n *= d.get<std::int64_t>();
    total += n;
  }
  ASSERT_EQ(total, 8'905'832);  // the golden's own "params" figure
  EXPECT_EQ(space().decode(space().resolve("t1")).params(), total);
}

TEST(ElasticViT, T1DecodeMatchesGoldenBlocksAndGrids) {
  const Network net = space().decode(space().resolve("t1"));
  ASSERT_NO_THROW(net.check_shapes());
  // first conv, 1 stem, 2 C1, 3 C2, 4 x (entry + attention + ffn), head
  ASSERT_EQ(net.blocks.size(), 1u + 1 + 2 + 3 + 4 * 3 + 1);
  EXPECT_EQ(net.blocks[0].key(), "evit_first_conv:cin=3,c=16,h=128,w=128");
  EXPECT_EQ(net.blocks[1].key(), "evit_mbconv:cin=16,c=16,h=64,w=64,expand=1,k=3,stride=1,se=0");
  EXPECT_EQ(net.blocks[2].key(), "evit_mbconv:cin=16,c=24,h=64,w=64,expand=3,k=3,stride=2,se=0");
  EXPECT_EQ(net.blocks[4].key(), "evit_mbconv:cin=24,c=32,h=32,w=32,expand=3,k=3,stride=2,se=1");
  EXPECT_EQ(net.blocks[7].key(), "evit_mbconv:cin=32,c=64,h=16,w=16,expand=6,k=3,stride=2,se=1");
  EXPECT_EQ(net.blocks[8].key(), "evit_attention:c=64,h=8,w=8,heads=4,v_scale=2");
  EXPECT_EQ(net.blocks[9].key(), "evit_ffn:c=64,h=8,w=8,mlp=2");
  EXPECT_EQ(net.blocks[10].key(), "evit_mbconv:cin=64,c=96,h=8,w=8,expand=6,k=3,stride=1,se=1");
  EXPECT_EQ(net.blocks.back().key(), "evit_head:c=272,h=2,w=2,mul=6,feat=1984,classes=1000");
  // Token grids of T1..T4 and stage shapes from the golden json.
  const auto g = golden_t1();
  const int grids[4] = {8, 8, 4, 2};
  for (int t = 0; t < 4; ++t)
    EXPECT_EQ(g.at("token_grids").at("stage" + std::to_string(t + 2)).get<int>(), grids[t]);
  EXPECT_EQ(block_output_shape(net.blocks[1]), (FeatureShape{64, 64, 16}));  // golden "stem"
  EXPECT_EQ(block_output_shape(net.blocks[3]), (FeatureShape{32, 32, 24}));  // "stage0"
  EXPECT_EQ(block_output_shape(net.blocks[6]), (FeatureShape{16, 16, 32}));  // "stage1"
  EXPECT_EQ(net.num_classes(), 1000);
}

TEST(ElasticViT, T1AttentionAndMbconvParamsMatchGoldenTensorsPerBlock) {
  // feature_exactor.2.layers.0 (without the entry "reduction"): norm1 2x64, qkv 256x64,
  // dw_v 128x9, attention_bias 225x4, proj 64x128 + 64.
  EXPECT_EQ(block_cost(BlockSpec{BlockKind::evit_attention, {64, 8, 8, 4, 2}}).params,
            2 * 64 + 256 * 64 + 128 * 9 + 225 * 4 + 64 * 128 + 64);
  // feature_exactor.1.layers.0.0: pw 72x24, 2 BN(72), dw 72x9, SE 18x72+18+72x18+72, pwl 32x72,
  // BN(32), shortcut 32x24.
  EXPECT_EQ(block_cost(BlockSpec{BlockKind::evit_mbconv, {24, 32, 32, 32, 3, 3, 2, 1}}).params,
            72 * 24 + 2 * 72 + 72 * 9 + 2 * 72 + (18 * 72 + 18 + 72 * 18 + 72) + 32 * 72 + 2 * 32 +
                32 * 24);
}

TEST(ElasticViT, BlockMacsAndShapesByHand) {
  // Attention, C=64 on 8x8, 4 heads of (16, 16, 32): qkv 64*64*256, dw-V 64*128*9,
  // QK^T 4*64*64*16, AV 4*64*64*32, proj 64*128*64.
  EXPECT_EQ(block_cost(BlockSpec{BlockKind::evit_attention, {64, 8, 8, 4, 2}}).macs,
            64 * 64 * 256 + 64 * 128 * 9 + 4 * 64 * 64 * 16 + 4 * 64 * 64 * 32 + 64 * 128 * 64);
  // Stem block (expand 1): no expansion conv; dw 3x3 + pwl 16->16 on 64x64, identity shortcut.
  const BlockSpec stem{BlockKind::evit_mbconv, {16, 16, 64, 64, 1, 3, 1, 0}};
  EXPECT_EQ(block_cost(stem).params, 16 * 9 + 2 * 16 + 16 * 16 + 2 * 16);
  EXPECT_EQ(block_cost(stem).macs, 64 * 64 * 16 * 9 + 64 * 64 * 16 * 16);
  // Odd grid: 7 -> 4 with stride 2 (224 input, T4 entry).
  EXPECT_EQ(block_output_shape(BlockSpec{BlockKind::evit_mbconv, {192, 256, 7, 7, 6, 3, 2, 1}}),
            (FeatureShape{4, 4, 256}));
  EXPECT_THROW(block_cost(BlockSpec{BlockKind::evit_mbconv, {16, 16, 64, 64, 1, 3, 1, 2}}), Error);
}

TEST(ElasticViT, ExportConfigEqualsGoldenArchList) {
  EXPECT_EQ(space().export_config(space().resolve("t1")).at("arch_list"),
            golden_t1().at("arch_list"));
}

TEST(ElasticViT, NamedSubnetsAreAllPresentValidAndOrdered) {
  const std::vector<std::string> want = {"t1", "t2", "s1", "s2", "m", "l1", "l1.5", "l2", "l3"};
  std::set<std::string> names;
  for (const auto& [n, a] : space().named()) {
    names.insert(n);
    ASSERT_NO_THROW(space().validate(a)) << n;
    EXPECT_NO_THROW(space().decode(a).check_shapes()) << n;
  }
  EXPECT_EQ(names, std::set<std::string>(want.begin(), want.end()));
  // The paper's family spans 60-800 MFLOPs in steps of about 100 M: each name sits in its own
  // 100 M band, in table order (t1 ~60, t2 ~100, s1 ~200, ..., l3 ~800).
  double prev = 0;
  for (const auto& n : want) {
    const double f = space().reference_mflops(space().resolve(n));
    EXPECT_GT(f, prev + 50) << n;
    EXPECT_GT(f, 55) << n;
    EXPECT_LT(f, 820) << n;
    prev = f;
  }
}

TEST(ElasticViT, ArchJsonHasReadableFieldsAndDerivedHeads) {
  const auto j = space().to_json(space().resolve("t1"));
  EXPECT_EQ(j, nlohmann::json::parse(R"({"space": "elasticvit", "resolution": 128,
      "widths": [16, 24, 32, 64, 96, 176, 272], "depths": [1, 2, 3, 1, 1, 1, 1], "kernel": [3, 3, 3],
      "expand": [3, 3], "mlp_ratio": [2, 2, 3, 4], "v_scale": [2, 2, 2, 2], "heads": [4, 6, 11, 17]})"));
}

TEST(ElasticViT, SamplesMutationsCrossoversValidNonDecreasingAndRoundTrip) {
  Rng rng(11);
  for (int i = 0; i < 3000; ++i) {
    const Arch a = space().sample(rng), b = space().sample(rng);
    const Arch m = space().mutate(a, rng, 0.4), x = space().crossover(a, b, rng);
    for (const Arch* arch : {&a, &m, &x}) {
      ASSERT_NO_THROW(space().validate(*arch));
      for (std::size_t s = 1; s < 7; ++s)
        ASSERT_GE(arch->genes[ElasticVitSpace::kWidth + s],
                  arch->genes[ElasticVitSpace::kWidth + s - 1]);
      ASSERT_EQ(space().from_json(nlohmann::json::parse(space().to_json(*arch).dump())), *arch);
    }
  }
}

TEST(ElasticViT, RepairRaisesADecreasingWidth) {
  Arch a = space().resolve("t1");
  a.genes[ElasticVitSpace::kWidth + 4] = 160;  // T2 = 160 > T3 = 144
  a.genes[ElasticVitSpace::kWidth + 5] = 144;
  EXPECT_THROW(space().validate(a), Error);
  space().repair(a);
  EXPECT_NO_THROW(space().validate(a));
  EXPECT_EQ(a.genes[ElasticVitSpace::kWidth + 5], 160);
}

TEST(ElasticViT, BadInputGivesClearErrors) {
  const auto err = [&](const std::string& text) {
    try {
      space().from_json(nlohmann::json::parse(text));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string ok =
      R"("space": "elasticvit", "resolution": 128, "depths": [1, 2, 3, 1, 1, 1, 1],
      "kernel": [3, 3, 3], "expand": [3, 3], "mlp_ratio": [2, 2, 3, 4], "v_scale": [2, 2, 2, 2])";
  EXPECT_NE(
      err("{" + ok + R"(, "widths": [16, 24, 32, 64, 160, 144, 272]})").find("must not decrease"),
      std::string::npos);
  EXPECT_NE(
      err("{" + ok + R"(, "widths": [16, 24, 32, 64, 96, 176, 272], "heads": [4, 6, 11, 16]})")
          .find("heads"),
      std::string::npos);
  EXPECT_NE(err("{" + ok + R"(, "widths": [16, 24, 32, 72, 96, 176, 272]})").find("width_t1"),
            std::string::npos);
  EXPECT_NE(err("{" + ok + R"(, "widths": [16, 24, 32, 64, 96, 176]})").find("widths"),
            std::string::npos);
  EXPECT_NE(
      err("{" + ok + R"(, "widths": [16, 24, 32, 64, 96, 176, 272], "extra": 1})").find("extra"),
      std::string::npos);
  EXPECT_THROW(space().enumerate_blocks(100), Error);
}

TEST(ElasticViT, EnumerateBlocksCoversSampledNetworksAtEveryResolution) {
  Rng rng(5);
  for (int r : space().dims()[ElasticVitSpace::kResolution].options) {
    std::set<std::string> keys;
    for (const auto& b : space().enumerate_blocks(r))
      ASSERT_TRUE(keys.insert(b.key()).second) << b.key();
    for (int i = 0; i < 300; ++i) {
      Arch a = space().sample(rng);
      a.genes[ElasticVitSpace::kResolution] = r;
      for (const auto& b : space().decode(a).blocks) ASSERT_TRUE(keys.count(b.key())) << b.key();
    }
    for (const auto& [n, a] : space().named()) {
      if (a.genes[ElasticVitSpace::kResolution] != r) continue;
      for (const auto& b : space().decode(a).blocks)
        ASSERT_TRUE(keys.count(b.key())) << n << " " << b.key();
    }
  }
}

TEST(ElasticViT, ExtraMetricsCarryReferenceMflops) {
  const SearchSpace& s = get_space("elasticvit");
  EXPECT_NEAR(s.extra_metrics(s.resolve("l1")).at("reference_mflops").get<double>(), 517.107584,
              1e-6);
}

// elasticvit-fmnist (EVIT-FMNIST-SPEC): the proxy space through the same decoder.
const ElasticVitSpace& fmnist() {
  return dynamic_cast<const ElasticVitSpace&>(get_space("elasticvit-fmnist"));
}

TEST(ElasticVitFmnist, NamedMembersAndFixedValues) {
  EXPECT_EQ(fmnist().resolve("s"), fmnist().smallest());
  EXPECT_EQ(fmnist().resolve("l"), fmnist().largest());
  const ElasticVitConfig m = ElasticVitSpace::config(fmnist().resolve("m"));
  EXPECT_EQ(m.widths, (std::array<int, 7>{16, 16, 24, 32, 48, 80, 112}));
  EXPECT_EQ(m.depths, (std::array<int, 7>{1, 2, 2, 1, 2, 2, 1}));
  EXPECT_EQ(m.kernel, (std::array<int, 3>{3, 3, 5}));
  const Network net = fmnist().decode(fmnist().largest());
  EXPECT_EQ(net.input.c, 1);
  EXPECT_EQ(net.input.h, 128);
  const BlockSpec& head = net.blocks.back();
  EXPECT_EQ(head.get("feat"), 256);
  EXPECT_EQ(head.get("classes"), 10);
  // The real space's grids at 128: first conv and stem 64, C1 32, C2 16, T1 8, T2 8, T3 4, T4 2.
  std::vector<int> attention_grids;
  for (const auto& b : net.blocks)
    if (b.kind == BlockKind::evit_attention &&
        (attention_grids.empty() || attention_grids.back() != b.get("h")))
      attention_grids.push_back(b.get("h"));
  EXPECT_EQ(attention_grids, (std::vector<int>{8, 4, 2}));  // T1 and T2 share 8
  EXPECT_EQ(net.blocks[1].get("h"), 64);
}

TEST(ElasticVitFmnist, OnlyResolution128AndCoveringBlockTable) {
  nlohmann::json j = fmnist().to_json(fmnist().resolve("s"));
  j["resolution"] = 160;
  try {
    fmnist().from_json(j);
    FAIL() << "160 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("{128}"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("elasticvit-fmnist"), std::string::npos) << e.what();
  }
  std::set<std::string> keys;
  for (const auto& b : fmnist().enumerate_blocks(128)) keys.insert(b.key());
  Rng rng(6);
  for (int i = 0; i < 200; ++i)
    for (const auto& b : fmnist().decode(fmnist().sample(rng)).blocks)
      ASSERT_TRUE(keys.count(b.key())) << b.key();
  // The reference FLOPs count uses the proxy's one input channel and 256 -> 10 head.
  const ElasticVitConfig s = ElasticVitSpace::config(fmnist().smallest());
  EXPECT_DOUBLE_EQ(fmnist().reference_mflops(fmnist().smallest()),
                   ElasticVitSpace::reference_mflops(s, 1, 256, 10));
  EXPECT_NEAR(ElasticVitSpace::reference_mflops(s, 3, 1984, 1000) -
                  ElasticVitSpace::reference_mflops(s, 1, 256, 10),
              (2.0 * 9 * 16 * 64 * 64 + 6.0 * 96 * (1984 - 256) + 1984.0 * 1000 - 256.0 * 10) / 1e6,
              1e-9);
}

}  // namespace
}  // namespace hwnas
