// Supernet slicing: the contract's rule checked element by element on a random supernet,
// coverage of every tensor the engine reads, and errors naming the supernet tensor.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "evaluators/engine/model.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "spaces/registry.h"
#include "tests/evaluators/random_supernet.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

using test::error_of;

const SearchSpace& fmnist() { return get_space("efficientformer-fmnist"); }

// Element (o, i) of a (out, in, ...) tensor, flattened trailing dims index r.
float at(const StoredTensor& t, std::int64_t o, std::int64_t i, std::int64_t r = 0) {
  std::int64_t inner = 1;
  for (std::size_t d = 2; d < t.shape.size(); ++d) inner *= t.shape[d];
  return t.data[static_cast<std::size_t>((o * t.shape[1] + i) * inner + r)];
}

// Every element of `sub` equals the supernet's at the same leading indices (kernels equal).
void expect_leading(const StoredTensor& sub, const StoredTensor& super, const std::string& what) {
  ASSERT_EQ(sub.shape.size(), super.shape.size()) << what;
  if (sub.shape.size() == 1) {
    for (std::int64_t o = 0; o < sub.shape[0]; ++o)
      ASSERT_EQ(sub.data[o], super.data[o]) << what << " [" << o << "]";
    return;
  }
  std::int64_t inner = 1;
  for (std::size_t d = 2; d < sub.shape.size(); ++d) {
    ASSERT_EQ(sub.shape[d], super.shape[d]) << what;
    inner *= sub.shape[d];
  }
  for (std::int64_t o = 0; o < sub.shape[0]; ++o)
    for (std::int64_t i = 0; i < sub.shape[1]; ++i)
      for (std::int64_t r = 0; r < inner; ++r)
        ASSERT_EQ(at(sub, o, i, r), at(super, o, i, r)) << what << " [" << o << "," << i << "]";
}

TEST(SupernetSlicing, ContractRuleOnMember) {
  const WeightStore super = test::random_fmnist_supernet(3);
  // m: widths 24,48,96,160, depths 2 each, one Meta3D: stage 4 = Meta4D, Flat, Meta3D.
  const Arch m = fmnist().resolve("m");
  const WeightStore sub = slice_supernet(fmnist(), m, super);
  const auto& s = sub.tensors;
  EXPECT_EQ(s.at("stem.conv1.weight").shape, (std::vector<std::int64_t>{12, 1, 3, 3}));
  expect_leading(s.at("stem.conv1.weight"), super.at("stem.conv1.weight"), "stem.conv1");
  expect_leading(s.at("stem.conv2.weight"), super.at("stem.conv2.weight"), "stem.conv2");
  expect_leading(s.at("stem.norm2.running_var"), super.at("stem.norm2.running_var"), "stem.norm2");
  EXPECT_EQ(s.at("stages.2.blocks.1.mlp.fc1.weight").shape,
            (std::vector<std::int64_t>{384, 96, 1, 1}));
  expect_leading(s.at("stages.2.blocks.1.mlp.fc2.weight"),
                 super.at("stages.2.blocks.1.mlp.fc2.weight"), "stages.2.blocks.1.mlp.fc2");
  expect_leading(s.at("stages.3.downsample.conv.weight"),
                 super.at("stages.3.downsample.conv.weight"), "downsample");
  // The Meta3D block sits at timm index 2 and reads stages.3.meta3d.0.
  const std::string m3 = "stages.3.blocks.2.", s3 = "stages.3.meta3d.0.";
  EXPECT_EQ(s.at(m3 + "token_mixer.qkv.weight").shape, (std::vector<std::int64_t>{384, 160}));
  expect_leading(s.at(m3 + "token_mixer.qkv.weight"), super.at(s3 + "token_mixer.qkv.weight"),
                 "qkv");
  EXPECT_EQ(s.at(m3 + "token_mixer.qkv.bias").data, super.at(s3 + "token_mixer.qkv.bias").data);
  EXPECT_EQ(s.at(m3 + "token_mixer.proj.weight").shape, (std::vector<std::int64_t>{160, 256}));
  expect_leading(s.at(m3 + "token_mixer.proj.weight"), super.at(s3 + "token_mixer.proj.weight"),
                 "proj");
  EXPECT_EQ(s.at(m3 + "token_mixer.attention_biases").data,
            super.at(s3 + "token_mixer.attention_biases").data);
  expect_leading(s.at(m3 + "mlp.fc1.weight"), super.at(s3 + "mlp.fc1.weight"), "meta3d fc1");
  expect_leading(s.at(m3 + "ls2.gamma"), super.at(s3 + "ls2.gamma"), "meta3d ls2");
  EXPECT_FALSE(sub.contains("stages.3.blocks.1.norm1.weight"));  // the Flat has no weights
  EXPECT_EQ(s.at("head.weight").shape, (std::vector<std::int64_t>{10, 160}));
  expect_leading(s.at("head_dist.weight"), super.at("head_dist.weight"), "head_dist");
  EXPECT_EQ(s.at("head.bias").data, super.at("head.bias").data);
  // The engine reads exactly this state dict (an unused or missing tensor would throw).
  EXPECT_NO_THROW(Model::from_weights(fmnist().decode(m), sub));
}

TEST(SupernetSlicing, EveryMemberAndRandomArchsLoad) {
  const WeightStore super = test::random_fmnist_supernet(5);
  for (const auto& [name, arch] : fmnist().named())
    EXPECT_NO_THROW(
        Model::from_weights(fmnist().decode(arch), slice_supernet(fmnist(), arch, super)))
        << name;
  Rng rng(11);
  for (int i = 0; i < 4; ++i) {
    const Arch a = fmnist().sample(rng);
    EXPECT_NO_THROW(Model::from_weights(fmnist().decode(a), slice_supernet(fmnist(), a, super)))
        << fmnist().to_json(a).dump();
  }
  // The largest arch is the supernet itself: slicing renames the Meta3D blocks only.
  const WeightStore l = slice_supernet(fmnist(), fmnist().resolve("l"), super);
  EXPECT_EQ(l.at("stages.3.blocks.2.mlp.fc2.weight").data,
            super.at("stages.3.meta3d.0.mlp.fc2.weight").data);
  EXPECT_EQ(l.at("stages.3.blocks.3.ls1.gamma").data, super.at("stages.3.meta3d.1.ls1.gamma").data);
  EXPECT_EQ(l.at("stages.3.blocks.0.mlp.fc1.weight").data,
            super.at("stages.3.blocks.0.mlp.fc1.weight").data);
}

TEST(SupernetSlicing, CentreOfLargerKernel) {
  StoredTensor k5{{2, 1, 5, 5}, {}};
  for (int i = 0; i < 50; ++i) k5.data.push_back(static_cast<float>(i));
  const StoredTensor k3 = slice_leading("w", k5, {1, 1, 3, 3});
  // Output channel 0, rows 1..3, columns 1..3 of the 5x5 kernel: 5*y + x.
  EXPECT_EQ(k3.data, (std::vector<float>{6, 7, 8, 11, 12, 13, 16, 17, 18}));
  EXPECT_NE(error_of([&] {
              slice_leading("w", k5, {1, 1, 4, 4});
            }).find("no centre"),
            std::string::npos);
}

TEST(SupernetSlicing, ErrorsNameTheSupernetTensor) {
  WeightStore super = test::random_fmnist_supernet(7);
  const Arch m = fmnist().resolve("m");
  WeightStore missing = super;
  missing.tensors.erase("stages.3.meta3d.0.token_mixer.proj.weight");
  EXPECT_NE(error_of([&] {
              slice_supernet(fmnist(), m, missing);
            }).find("'stages.3.meta3d.0.token_mixer.proj.weight'"),
            std::string::npos);
  WeightStore small = super;
  small.tensors["stages.1.downsample.conv.weight"].shape = {16, 16, 3, 3};
  EXPECT_NE(
      error_of([&] { slice_supernet(fmnist(), m, small); }).find("stages.1.downsample.conv.weight"),
      std::string::npos);
  EXPECT_NE(error_of([&] {
              slice_supernet(get_space("turbovit"), get_space("turbovit").largest(), super);
            }).find("trained for space 'efficientformer-fmnist', not 'turbovit'"),
            std::string::npos);
}

}  // namespace
}  // namespace hwnas
