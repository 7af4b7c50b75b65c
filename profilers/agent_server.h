// AgentServer: `hwnas agent`, serves a Backend's measurements over HTTP + JSON so that a host can
// profile another machine (DESIGN.md "Where it goes past one machine").
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "profilers/agent_protocol.h"
#include "profilers/backend.h"

namespace httplib {
class Server;
}

namespace hwnas {

struct AgentOptions {
  std::string host = "127.0.0.1";  ///< bind address; anything but loopback requires a token
  int port = 0;                    ///< 0 = an ephemeral port (see AgentServer::port())
  std::string token;               ///< if set, every request needs "Authorization: Bearer <token>"
  std::string device_name = "agent";  ///< the DeviceProfile name the agent reports
  AgentLimits limits;
};

/// Endpoints (all JSON; errors are {"error": "<message>"}):
///   GET  /v1/device           -> DeviceProfile JSON (profilers/device_profile.h)
///   POST /v1/measure          {"blocks": [key, ...], "timing": TimingConfig}
///                             -> {"results": [TimingStats, ...]} in the order of the keys
///   POST /v1/measure_network  {"blocks": [key, ...], "timing": TimingConfig}
///                             -> {"result": TimingStats} of the whole chain of blocks
/// 401 without the right bearer token (when one is set); 400 for a body over
/// limits.max_body_bytes, malformed JSON, an unknown block kind, a block over
/// limits.max_block_bytes or a timing over the limits; 404 for other paths. Measurements run one
/// at a time (a mutex), since concurrent timing would disturb each other.
class AgentServer {
 public:
  /// Throws hwnas::Error if the host is not a loopback address and no token is given.
  AgentServer(Backend& backend, AgentOptions options);
  ~AgentServer();
  AgentServer(const AgentServer&) = delete;
  AgentServer& operator=(const AgentServer&) = delete;

  /// Binds and serves on a background thread; returns the bound port. Throws hwnas::Error if the
  /// address cannot be bound.
  int start();
  /// Binds and serves on the calling thread until stop() (from another thread or a signal).
  void serve_forever();
  /// Stops serving and joins the background thread (idempotent).
  void stop();
  int port() const { return port_; }

 private:
  void install_routes();
  int bind();

  Backend& backend_;
  AgentOptions opt_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::mutex measure_mutex_;
  int port_ = 0;
};

/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

}  // namespace hwnas
