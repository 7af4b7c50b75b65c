// The `hwnas` executable end to end: output formats match the library, bad input exits 2.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

test::CommandResult hwnas_cli(const std::string& args) {
  return test::run_command(std::string(HWNAS_BIN) + " " + args);
}

TEST(Cli, DescribeJsonMatchesLibrary) {
  const auto r = hwnas_cli("describe --space efficientformer --arch l1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const SearchSpace& s = get_space("efficientformer");
  const Network net = s.decode(s.resolve("l1"));
  EXPECT_EQ(j.at("space"), "efficientformer");
  EXPECT_EQ(j.at("arch"), s.to_json(s.resolve("l1")));
  EXPECT_EQ(j.at("params").get<std::int64_t>(), net.params());
  EXPECT_EQ(j.at("macs").get<std::int64_t>(), net.macs());
  ASSERT_EQ(j.at("blocks").size(), net.blocks.size());
  for (std::size_t i = 0; i < net.blocks.size(); ++i) {
    EXPECT_EQ(j["blocks"][i].at("key"), net.blocks[i].key());
    EXPECT_EQ(j["blocks"][i].at("macs").get<std::int64_t>(), block_cost(net.blocks[i]).macs);
  }
}

TEST(Cli, DescribeTextShowsTotals) {
  const auto r = hwnas_cli("describe --arch l1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("12289928 params"), std::string::npos) << r.out;
}

TEST(Cli, SampleIsSeededAndValid) {
  const auto a = hwnas_cli("sample --space efficientformer --n 20 --seed 5");
  const auto b = hwnas_cli("sample --space efficientformer --n 20 --seed 5");
  const auto c = hwnas_cli("sample --space efficientformer --n 20 --seed 6");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  std::istringstream lines(a.out);
  std::string line;
  int n = 0;
  const SearchSpace& s = get_space("efficientformer");
  while (std::getline(lines, line)) {
    EXPECT_NO_THROW(s.validate(s.from_json(nlohmann::json::parse(line))));
    ++n;
  }
  EXPECT_EQ(n, 20);
}

TEST(Cli, SpacesListsEfficientFormer) {
  const auto r = hwnas_cli("spaces --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  bool found = false;
  for (const auto& s : j) found = found || s.at("name") == "efficientformer";
  EXPECT_TRUE(found);
}

TEST(Cli, BadInputExitsTwoWithOneLineError) {
  const std::string dir = test::make_temp_dir("hwnas-cli");
  const char* cases[] = {
      "describe --space nope --arch l1",
      "describe --arch l9",
      "describe --arch '{\"space\": \"efficientformer\"'",
      "describe --arch "
      "'{\"space\":\"efficientformer\",\"embed_dims\":[48,96,224,449],\"depths\":[3,2,6,4],\"num_"
      "vit\":1,\"resolution\":224}'",
      "describe --arch /nonexistent/arch.json",
      "describe",
      "sample --n -1",
      "frobnicate",
  };
  for (const char* args : cases) {
    const auto r = hwnas_cli(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << args << "\n" << r.err;
  }
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const char* sub : {"spaces", "describe", "sample"}) {
    const auto r = hwnas_cli(std::string(sub) + " --help");
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.out.find("--"), std::string::npos) << sub;
  }
}

}  // namespace
}  // namespace hwnas
