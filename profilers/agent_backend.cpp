#include "profilers/agent_backend.h"

#include <httplib.h>

#include "core/error.h"
#include "profilers/agent_protocol.h"

namespace hwnas {

AgentBackend::AgentBackend(const std::string& url, const std::string& token)
    : url_(url), token_(token) {
  if (url.rfind("http://", 0) != 0 || url.find(':', 7) == std::string::npos)
    throw Error("--agent '" + url + "' must look like http://HOST:PORT");
  client_ = std::make_unique<httplib::Client>(url);
  if (!client_->is_valid()) throw Error("--agent '" + url + "' is not a valid http://HOST:PORT");
  client_->set_connection_timeout(5, 0);
  // A request times a whole batch of blocks: allow minutes, not the library's 5 s.
  client_->set_read_timeout(900, 0);
  client_->set_write_timeout(60, 0);
  if (!token.empty()) client_->set_bearer_token_auth(token);
}

AgentBackend::~AgentBackend() = default;

nlohmann::json AgentBackend::call(const std::string& path, const nlohmann::json* body) {
  auto res = body ? client_->Post(path.c_str(), body->dump(), "application/json")
                  : client_->Get(path.c_str());
  if (!res)
    throw Error("cannot reach agent at " + url_ + " (" + httplib::to_string(res.error()) +
                "); start one there with `hwnas agent --listen HOST:PORT [--token T]`");
  std::string message = res->body;
  try {
    const auto j = nlohmann::json::parse(res->body);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) message = j["error"];
  } catch (const nlohmann::json::exception&) {
  }
  if (res->status == 401)
    throw Error("agent at " + url_ + " refused the request (401): pass its --token");
  if (res->status != 200)
    throw Error("agent at " + url_ + " answered " + std::to_string(res->status) + " to " + path +
                ": " + message);
  try {
    return nlohmann::json::parse(res->body);
  } catch (const nlohmann::json::exception&) {
    throw Error("agent at " + url_ + " sent a malformed reply to " + path);
  }
}

DeviceProfile AgentBackend::device(const std::string& device_name) {
  DeviceProfile p = device_profile_from_json(call("/v1/device", nullptr));
  if (!device_name.empty()) p.name = device_name;
  return p;
}

std::vector<TimingStats> AgentBackend::measure_blocks(const std::vector<BlockSpec>& blocks,
                                                      const TimingConfig& timing) {
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& b : blocks) keys.push_back(b.key());
  const nlohmann::json body = {{"blocks", keys}, {"timing", timing_config_to_json(timing)}};
  const auto reply = call("/v1/measure", &body);
  if (!reply.contains("results") || !reply["results"].is_array() ||
      reply["results"].size() != blocks.size())
    throw Error("agent at " + url_ + " sent a reply without one result per block");
  std::vector<TimingStats> out;
  for (const auto& r : reply["results"]) out.push_back(timing_stats_from_json(r));
  return out;
}

TimingStats AgentBackend::measure_network(const Network& net, const TimingConfig& timing) {
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& b : net.blocks) keys.push_back(b.key());
  const nlohmann::json body = {{"blocks", keys}, {"timing", timing_config_to_json(timing)}};
  const auto reply = call("/v1/measure_network", &body);
  if (!reply.contains("result")) throw Error("agent at " + url_ + " sent a reply without result");
  return timing_stats_from_json(reply["result"]);
}

}  // namespace hwnas
