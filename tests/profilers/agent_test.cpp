// The profiling agent on 127.0.0.1 (ephemeral ports, in-process server, fake backend): device
// and measure endpoints, bearer token, request validation, a dead agent.
#include <gtest/gtest.h>
#include <httplib.h>

#include "core/error.h"
#include "profilers/agent_backend.h"
#include "profilers/agent_protocol.h"
#include "profilers/agent_server.h"
#include "profilers/fake_backend.h"
#include "profilers/profiler.h"
#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

using test::error_of;

std::string url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

nlohmann::json measure_body(const std::vector<std::string>& keys) {
  TimingConfig t;
  return {{"blocks", keys}, {"timing", timing_config_to_json(t)}};
}

TEST(Agent, ServesDeviceAndMeasurements) {
  FakeBackend fake;
  AgentOptions o;
  o.device_name = "board";
  AgentServer server(fake, o);
  const int port = server.start();
  ASSERT_GT(port, 0);
  AgentBackend client(url(port), "");
  const DeviceProfile p = client.device("");
  EXPECT_EQ(p, fake.device("board"));
  EXPECT_EQ(client.device("renamed").name, "renamed");

  const std::vector<BlockSpec> blocks = {BlockSpec::parse("stem:cin=3,c=48,h=224,w=224"),
                                         BlockSpec::parse("meta4d:c=48,h=56,w=56,pool=3,mlp=4")};
  const auto stats = client.measure_blocks(blocks, TimingConfig{});
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_DOUBLE_EQ(stats[0].median_ms, fake.block_ms(blocks[0]));
  EXPECT_DOUBLE_EQ(stats[1].median_ms, fake.block_ms(blocks[1]));

  const SearchSpace& ef = get_space("efficientformer");
  const Network net = ef.decode(ef.resolve("l1"));
  EXPECT_NEAR(client.measure_network(net, TimingConfig{}).median_ms, fake.network_ms(net), 1e-12);

  // Each reply says when the device work ran, on the agent's steady clock.
  httplib::Client raw(url(port));
  std::int64_t last_end = 0;
  for (const char* path : {"/v1/measure", "/v1/measure_network"}) {
    auto res = raw.Post(path, measure_body({"flatten:c=448,h=7,w=7"}).dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    const auto j = nlohmann::json::parse(res->body);
    const auto start = j.at("measure_start_ns").get<std::int64_t>();
    EXPECT_LE(start, j.at("measure_end_ns").get<std::int64_t>());
    EXPECT_LE(last_end, start);
    last_end = j.at("measure_end_ns").get<std::int64_t>();
  }
  server.stop();
}

TEST(Agent, ProfileThroughAgentStoresRowsUnderAgentDevice) {
  FakeBackend fake;
  AgentOptions o;
  o.device_name = "board";
  AgentServer server(fake, o);
  const int port = server.start();
  AgentBackend client(url(port), "");
  const std::string path = test::make_temp_dir("agent") + "/t.db";
  LatencyTable table(path, LatencyTable::Mode::read_write);
  const SearchSpace& ef = get_space("efficientformer");
  ProfileOptions po;
  po.device_name = "";  // the agent's own name
  po.overhead_networks = 1;
  const auto rep = profile_archs(ef, {ef.resolve("l1")}, table, client, po);
  EXPECT_EQ(rep.device, "board");
  const auto rows = table.rows("board");
  EXPECT_EQ(rows.size(), static_cast<std::size_t>(rep.blocks_total));
  for (const auto& r : rows)
    EXPECT_DOUBLE_EQ(r.stats.median_ms, fake.block_ms(BlockSpec::parse(r.key)));
  EXPECT_EQ(table.find_device("board")->cpu_model, fake.device("").cpu_model);
}

TEST(Agent, TimingConditionsCrossTheWireAndOlderAgentsOmitTheWorkersWait) {
  TimingStats s = summarize_ms({1.0, 2.0, 3.0});
  s.conditions = {30.5, 29.0, 0.25, 3, 3, 1, 4.75};
  const TimingStats back = timing_stats_from_json(timing_stats_to_json(s));
  EXPECT_DOUBLE_EQ(back.median_ms, 2.0);
  EXPECT_DOUBLE_EQ(back.conditions.steal_ms, 0.25);
  EXPECT_EQ(back.conditions.retimed, 1);
  EXPECT_DOUBLE_EQ(back.conditions.workers_wait_ms, 4.75);
  nlohmann::json older = timing_stats_to_json(s);
  older["conditions"].erase("workers_wait_ms");
  EXPECT_EQ(timing_stats_from_json(older).conditions.workers_wait_ms, 0.0);  // unknown
  EXPECT_EQ(timing_stats_from_json(older).conditions.windows, 3);
}

TEST(Agent, TokenIsRequiredWhenSet) {
  FakeBackend fake;
  AgentOptions o;
  o.token = "s3cret";
  AgentServer server(fake, o);
  const int port = server.start();
  EXPECT_NE(error_of([&] { AgentBackend(url(port), "").device(""); }).find("401"),
            std::string::npos);
  EXPECT_NE(error_of([&] { AgentBackend(url(port), "wrong").device(""); }).find("401"),
            std::string::npos);
  EXPECT_NO_THROW(AgentBackend(url(port), "s3cret").device(""));
  httplib::Client raw(url(port));
  auto res =
      raw.Post("/v1/measure", measure_body({"flatten:c=448,h=7,w=7"}).dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
}

TEST(Agent, NonLoopbackNeedsToken) {
  FakeBackend fake;
  AgentOptions o;
  o.host = "0.0.0.0";
  const auto msg = error_of([&] { AgentServer s(fake, o); });
  EXPECT_NE(msg.find("--token"), std::string::npos) << msg;
}

TEST(Agent, BadRequestsGet400WithMessage) {
  FakeBackend fake;
  AgentOptions o;
  o.limits.max_body_bytes = 4096;
  AgentServer server(fake, o);
  const int port = server.start();
  httplib::Client raw(url(port));
  auto post = [&](const std::string& body) {
    auto res = raw.Post("/v1/measure", body, "application/json");
    EXPECT_TRUE(res);
    return res ? std::make_pair(res->status, res->body) : std::make_pair(0, std::string());
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {std::string(10000, ' ') + "{}", "over the agent's limit"},
      {"{not json", "malformed JSON"},
      {"[1,2]", "JSON object"},
      {nlohmann::json{{"timing", timing_config_to_json(TimingConfig{})}}.dump(), "'blocks'"},
      {measure_body({"warp:c=3"}).dump(), "unknown block kind 'warp'"},
      {measure_body({"flatten:c=448,h=7"}).dump(), "missing attribute 'w'"},
      {measure_body({"meta3d:c=16384,h=16384,w=16384,heads=8,kd=32,ar=4,mlp=4"}).dump(),
       "over the agent's limit"},
      // About 220 MB each, 5 GB together: a backend would hold them all at once.
      {measure_body(std::vector<std::string>(24, "meta4d:c=512,h=128,w=128,pool=3,mlp=4")).dump(),
       "together"},
      {nlohmann::json{
           {"blocks", {"flatten:c=448,h=7,w=7"}},
           {"timing",
            {{"warmup", 1}, {"min_repeats", 5}, {"min_time_ms", 1e9}, {"max_repeats", 10}}}}
           .dump(),
       "limits"},
  };
  for (const auto& [body, needle] : cases) {
    const auto [status, reply] = post(body);
    EXPECT_EQ(status, 400) << body.substr(0, 80);
    EXPECT_NE(reply.find(needle), std::string::npos) << reply;
  }
  // A chain whose shapes do not connect is refused before any timing.
  auto res =
      raw.Post("/v1/measure_network",
               measure_body({"flatten:c=448,h=7,w=7", "meta4d:c=48,h=56,w=56,pool=3,mlp=4"}).dump(),
               "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(fake.blocks_measured(), 0);
  // The server still answers after all that.
  EXPECT_NO_THROW(AgentBackend(url(port), "").device(""));
}

TEST(Agent, DeadAgentIsClearError) {
  int port = 0;
  {
    FakeBackend fake;
    AgentServer server(fake, AgentOptions{});
    port = server.start();
    server.stop();
  }
  const auto msg = error_of([&] { AgentBackend(url(port), "").device(""); });
  EXPECT_NE(msg.find("cannot reach agent"), std::string::npos) << msg;
  EXPECT_NE(msg.find("hwnas agent --listen"), std::string::npos) << msg;
  EXPECT_THROW(AgentBackend("ftp://x", ""), Error);
}

}  // namespace
}  // namespace hwnas
