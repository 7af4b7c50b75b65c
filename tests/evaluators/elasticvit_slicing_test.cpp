// ElasticViT supernet slicing: the real space's t1 sliced from a synthetic supernet of the
// official checkpoint's shapes (golden/elasticvit_t1.json "supernet_slices"), each tensor checked
// against the slice the json states, parsed here independently of the slicer; and the proxy
// space elasticvit-fmnist sliced from its own union network.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "evaluators/engine/model.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "spaces/registry.h"
#include "tests/evaluators/random_supernet.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

using Shape = std::vector<std::int64_t>;

std::int64_t count(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// Row-major flat index of `idx` in `shape`.
std::int64_t flat(const Shape& shape, const Shape& idx) {
  std::int64_t f = 0;
  for (std::size_t d = 0; d < shape.size(); ++d) f = f * shape[d] + idx[d];
  return f;
}

// The supernet flat indices a numpy-style slice "[a:b, :c, ...]" (trailing dims whole) selects.
std::vector<std::int64_t> box(const Shape& shape, const std::string& spec) {
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  const std::regex part(R"((\d*):(\d+))");
  for (auto it = std::sregex_iterator(spec.begin(), spec.end(), part); it != std::sregex_iterator();
       ++it)
    ranges.emplace_back((*it)[1].length() ? std::stoll((*it)[1]) : 0, std::stoll((*it)[2]));
  while (ranges.size() < shape.size()) ranges.emplace_back(0, shape[ranges.size()]);
  std::vector<std::int64_t> out;
  Shape idx(shape.size());
  for (std::size_t d = 0; d < shape.size(); ++d) idx[d] = ranges[d].first;
  while (true) {
    out.push_back(flat(shape, idx));
    std::size_t d = shape.size();
    while (d-- > 0) {
      if (++idx[d] < ranges[d].second) break;
      idx[d] = ranges[d].first;
    }
    if (d == static_cast<std::size_t>(-1)) return out;
  }
}

// The flat indices the json's slice description selects, in the subnet's order.
std::vector<std::int64_t> expected_indices(const Shape& shape, const std::string& slice) {
  std::smatch m;
  if (slice == "full") return box(shape, "");
  if (std::regex_match(
          slice, m,
          std::regex(
              R"(cat\(rows \[(\d+):(\d+)\], rows \[(\d+):(\d+)\], rows \[(\d+):(\d+)\]\) x cols \[:(\d+)\])"))) {
    std::vector<std::int64_t> out;
    for (int r = 0; r < 3; ++r)
      for (std::int64_t row = std::stoll(m[1 + 2 * r]); row < std::stoll(m[2 + 2 * r]); ++row)
        for (std::int64_t col = 0; col < std::stoll(m[7]); ++col)
          out.push_back(row * shape[1] + col);
    return out;
  }
  if (std::regex_match(slice, m,
                       std::regex(R"(view\((\d+),(\d+),(\d+)\)(\[.*\]) -> reshape\(\d+,\d+\))")))
    return box({std::stoll(m[1]), std::stoll(m[2]), std::stoll(m[3])}, m[4]);
  if (!slice.empty() && slice.front() == '[') return box(shape, slice);
  ADD_FAILURE() << "unknown slice description " << slice;
  return {};
}

TEST(ElasticVitSlicing, OfficialRuleOnGoldenT1) {
  std::ifstream f(test::golden_dir() + "/elasticvit_t1.json");
  ASSERT_TRUE(f) << "missing golden elasticvit_t1.json";
  const nlohmann::json slices = nlohmann::json::parse(f)["supernet_slices"];
  // A synthetic supernet of the official shapes whose every value is its own flat index
  // (exact in float: no tensor reaches 2^24 values).
  WeightStore super;
  for (const auto& [name, e] : slices.items()) {
    StoredTensor t{e["supernet_shape"].get<Shape>(), {}};
    for (std::int64_t i = 0; i < count(t.shape); ++i) t.data.push_back(static_cast<float>(i));
    super.tensors[name] = std::move(t);
  }
  const SearchSpace& space = get_space("elasticvit");
  const WeightStore sub = slice_supernet(space, space.resolve("t1"), super);
  EXPECT_EQ(sub.tensors.size(), slices.size());
  for (const auto& [name, e] : slices.items()) {
    ASSERT_TRUE(sub.contains(name)) << name;
    const std::vector<std::int64_t> want =
        expected_indices(e["supernet_shape"].get<Shape>(), e["slice"]);
    const StoredTensor& got = sub.at(name);
    ASSERT_EQ(got.data.size(), want.size()) << name << " " << e["slice"];
    for (std::size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(got.data[i], static_cast<float>(want[i]))
          << name << " " << e["slice"] << " element " << i;
  }
}

TEST(ElasticVitSlicing, ProxySpaceFromItsUnionNetwork) {
  const SearchSpace& space = get_space("elasticvit-fmnist");
  const WeightStore super = test::random_union_supernet("elasticvit-fmnist", 4);
  // The union network is l: slicing it is the identity.
  const WeightStore whole = slice_supernet(space, space.resolve("l"), super);
  ASSERT_EQ(whole.tensors.size(), super.tensors.size());
  for (const auto& [name, t] : super.tensors) EXPECT_EQ(whole.at(name).data, t.data) << name;
  // s: every tensor the engine reads, and it runs; spot checks of the special rules.
  const Arch s = space.resolve("s");
  const WeightStore sub = slice_supernet(space, s, super);
  Model model = Model::from_weights(space.decode(s), sub);
  EXPECT_EQ(model.forward(Tensor(1, 128, 128, 1)).c(), 10);
  // T1 of s: width 32 (2 heads), v_scale 2 (dv 32); supernet C_max 48, qkv rows 6 * 48.
  const StoredTensor& qkv = sub.at("feature_exactor.2.layers.0.qkv.weight");
  const StoredTensor& sq = super.at("feature_exactor.2.layers.0.qkv.weight");
  ASSERT_EQ(qkv.shape, (Shape{2 * (16 + 16 + 32), 32}));
  EXPECT_EQ(qkv.data[0], sq.data[0]);
  EXPECT_EQ(qkv.data[32 * 32], sq.data[48 * 48]);          // first k row: supernet row C_max
  EXPECT_EQ(qkv.data[64 * 32 + 1], sq.data[96 * 48 + 1]);  // first v row: supernet row 2 C_max
  // Kernel 3 of a 5x5 stem kernel: the centre.
  const StoredTensor& dw = sub.at("conv_stem.layers.0.0.dw_conv.weight");
  ASSERT_EQ(dw.shape, (Shape{16, 1, 3, 3}));
  EXPECT_EQ(dw.data[0], super.at("conv_stem.layers.0.0.dw_conv.weight").data[6]);
  // The classifier is shared whole; the head's hidden layer takes [:256, :6C].
  EXPECT_EQ(sub.at("classifer.weight").data, super.at("classifer.weight").data);
  EXPECT_EQ(sub.at("pre_head_1.weight").shape, (Shape{256, 6 * 96}));
}

TEST(ElasticVitSlicing, ErrorsNameTheSupernetTensor) {
  const SearchSpace& space = get_space("elasticvit-fmnist");
  WeightStore super = test::random_union_supernet("elasticvit-fmnist", 5);
  super.tensors.erase("feature_exactor.3.layers.0.qkv.weight");
  try {
    slice_supernet(space, space.resolve("m"), super);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("feature_exactor.3.layers.0.qkv.weight"),
              std::string::npos)
        << e.what();
  }
  super.metadata["space"] = "elasticvit";
  EXPECT_THROW(slice_supernet(space, space.resolve("s"), super), Error);
}

}  // namespace
}  // namespace hwnas
