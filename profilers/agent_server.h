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
  /// Connections served at once; further ones wait in a queue of `max_queued`, then in the
  /// kernel's listen backlog (the accept loop stops taking new ones while the queue is full).
  int max_clients = 8;
  int max_queued = 64;
  /// A client that sends nothing for this long (mid-request, or idle on a kept-alive
  /// connection) is cut off, so a stalled client holds one worker for at most this long.
  int read_timeout_ms = 5000;
  int write_timeout_ms = 5000;
};

/// Endpoints (all JSON; errors are {"error": "<message>"}):
///   GET  /v1/device           -> DeviceProfile JSON (profilers/device_profile.h)
///   POST /v1/measure          {"blocks": [key, ...], "timing": TimingConfig}
///                             -> {"results": [TimingStats, ...]} in the order of the keys
///   POST /v1/measure_network  {"blocks": [key, ...], "timing": TimingConfig}
///                             -> {"result": TimingStats} of the whole chain of blocks
/// Both measure replies also carry "measure_start_ns" and "measure_end_ns": when the device
/// work began and ended, on the agent's steady clock (comparable between replies of one agent).
/// 401 without the right bearer token (when one is set); 400 for a body over
/// limits.max_body_bytes, malformed JSON, an unknown block kind, a block over
/// limits.max_block_bytes, blocks over limits.max_request_bytes together or a timing over the
/// limits, all refused before anything is allocated for the blocks; 404 for other paths.
/// Measurements run one at a time (a mutex), since concurrent timing would disturb each other;
/// GET /v1/device does not wait for them.
class AgentServer {
 public:
  /// Throws hwnas::Error if the host is not a loopback address and no token is given, or if
  /// max_clients, max_queued or a timeout is not positive.
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
  std::string device_json();

  Backend& backend_;
  AgentOptions opt_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::mutex measure_mutex_;
  std::mutex device_mutex_;  // taken before measure_mutex_, never after
  std::string device_json_;  // cached: the profile does not change while the agent runs
  int port_ = 0;
  int listen_fd_ = -1;  // the listening socket, from httplib's socket-options hook
};

/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

}  // namespace hwnas
