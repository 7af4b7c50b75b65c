// AgentBackend: a Backend that measures on a remote `hwnas agent` over HTTP + JSON.
#pragma once

#include <memory>
#include <string>

#include "profilers/backend.h"

namespace httplib {
class Client;
}

namespace hwnas {

/// Talks to `hwnas agent` at `url` ("http://HOST:PORT"), sending `Authorization: Bearer <token>`
/// when a token is given. The rows it measures belong to the agent's DeviceProfile.
/// Errors (all hwnas::Error, naming the URL): agent unreachable (with how to start one), token
/// refused (401), request rejected (400, with the agent's message), malformed reply.
class AgentBackend final : public Backend {
 public:
  /// Throws hwnas::Error if the URL is not of the form http://HOST:PORT.
  AgentBackend(const std::string& url, const std::string& token);
  ~AgentBackend() override;

  std::string name() const override { return "agent " + url_; }
  /// GET /v1/device; the name is replaced by `device_name` unless that is empty.
  DeviceProfile device(const std::string& device_name) override;
  /// POST /v1/measure.
  std::vector<TimingStats> measure_blocks(const std::vector<BlockSpec>& blocks,
                                          const TimingConfig& timing) override;
  /// POST /v1/measure_network.
  TimingStats measure_network(const Network& net, const TimingConfig& timing) override;

 private:
  nlohmann::json call(const std::string& path, const nlohmann::json* body);
  std::string url_;
  std::string token_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace hwnas
