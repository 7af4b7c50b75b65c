#include "spaces/space_def.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace hwnas {
namespace {

nlohmann::json minimal() {
  return nlohmann::json::parse(
      R"({"name": "toy", "summary": "a toy", "dims": [{"name": "w", "range": [16, 64, 16]},
          {"name": "r", "values": [128, 224]}]})");
}

TEST(SpaceDef, ParsesRangesAndValues) {
  const SpaceDef d = parse_space_def(minimal(), "toy.json");
  ASSERT_EQ(d.dims.size(), 2u);
  EXPECT_EQ(d.dims[0].options, (std::vector<int>{16, 32, 48, 64}));
  EXPECT_EQ(d.dims[1].options, (std::vector<int>{128, 224}));
  EXPECT_EQ(d.dim_index("r"), 1u);
  EXPECT_THROW(d.dim_index("q"), Error);
  EXPECT_THROW(d.fixed_int("heads"), Error);
}

TEST(SpaceDef, RejectsMalformedDefinitions) {
  auto rejects = [](nlohmann::json j, const char* why) {
    EXPECT_THROW(parse_space_def(j, "toy.json"), Error) << why;
  };
  auto j = minimal();
  j["colour"] = "red";
  rejects(j, "unknown top-level key");
  j = minimal();
  j["dims"][0]["values"] = {1, 2};
  rejects(j, "both range and values");
  j = minimal();
  j["dims"][1]["values"] = nlohmann::json::array();
  rejects(j, "empty choice list");
  j = minimal();
  j["dims"][1]["values"] = {224, 128};
  rejects(j, "unsorted");
  j = minimal();
  j["dims"][1]["name"] = "w";
  rejects(j, "duplicate dimension");
  j = minimal();
  j["dims"][0]["range"] = {64, 16, 16};
  rejects(j, "empty range");
  j = minimal();
  j["dims"][0]["typo"] = 1;
  rejects(j, "unknown dim key");
  j = minimal();
  j.erase("summary");
  rejects(j, "missing summary");
}

// Found by fuzzing: [1666, 666666632, 8] built 83 million options (3.6 s). Ranges are counted
// before they are built, and one that ends near INT_MAX steps without overflowing.
TEST(SpaceDef, HugeRangesAreRefusedAndRangesNearIntMaxAreExact) {
  auto j = minimal();
  j["dims"][0]["range"] = {1666, 666666632, 8};
  try {
    (void)parse_space_def(j, "toy.json");
    ADD_FAILURE() << "a range of 83 million options was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("83333121 options"), std::string::npos) << e.what();
  }
  j["dims"][0]["range"] = {16, 16 + 4095 * 8, 8};  // 4096 options: the limit itself
  EXPECT_EQ(parse_space_def(j, "toy.json").dims[0].options.size(), 4096u);
  j["dims"][0]["range"] = {2147483600, 2147483647, 40};
  EXPECT_EQ(parse_space_def(j, "toy.json").dims[0].options,
            (std::vector<int>{2147483600, 2147483640}));
}

TEST(SpaceDef, EmbeddedDefinitionsLoad) {
  const SpaceDef d = embedded_space_def("efficientformer");
  EXPECT_EQ(d.name, "efficientformer");
  EXPECT_EQ(d.named.size(), 3u);
  EXPECT_EQ(d.fixed_int("heads"), 8);
  EXPECT_THROW(embedded_space_def("nope"), Error);
}

}  // namespace
}  // namespace hwnas
