// `hwnas agent`: serve this machine's measurements over HTTP + JSON for `hwnas profile --agent`.
#include <iostream>
#include <memory>

#include "apps/command.h"
#include "core/error.h"
#include "profilers/agent_server.h"
#include "profilers/backend_registry.h"

namespace hwnas::apps {
namespace {

class AgentCommand final : public Command {
 public:
  void setup(CLI::App& app) override {
    app.footer(
        "Endpoints: GET /v1/device, POST /v1/measure, POST /v1/measure_network. Binds "
        "127.0.0.1 by default; any other address requires --token, and every request "
        "must then send `Authorization: Bearer <token>`. Oversized or malformed requests "
        "get 400.");
    app.add_option("--listen", listen_, "HOST:PORT to bind")->capture_default_str();
    app.add_option("--token", token_, "required bearer token (mandatory off loopback)");
    app.add_option("--device", device_, "device name the agent reports")->capture_default_str();
    app.add_option("--threads", threads_, "engine threads")->capture_default_str();
    app.add_option("--backend", backend_, "local (the engine) or fake (deterministic)")
        ->check(CLI::IsMember({"local", "fake"}))
        ->capture_default_str();
    app.add_option("--block-timing", block_timing_, "local backend: cold-weights or hot")
        ->check(CLI::IsMember({"hot", "cold-weights"}))
        ->capture_default_str();
    app.add_option("--max-body-bytes", max_body_, "largest accepted request body")
        ->capture_default_str();
    app.add_option("--max-clients", max_clients_,
                   "connections served at once (more wait in a bounded queue)")
        ->capture_default_str();
    app.add_option("--read-timeout-ms", read_timeout_ms_,
                   "cut off a client that sends nothing for this long")
        ->capture_default_str();
  }

  int run() override {
    const auto colon = listen_.rfind(':');
    if (colon == std::string::npos || colon == 0)
      throw Error("--listen '" + listen_ + "' must be HOST:PORT, e.g. 127.0.0.1:8765");
    AgentOptions o;
    o.host = listen_.substr(0, colon);
    try {
      o.port = std::stoi(listen_.substr(colon + 1));
    } catch (...) {
      o.port = -1;
    }
    if (o.port < 0 || o.port > 65535) throw Error("--listen '" + listen_ + "': bad port");
    o.token = token_;
    o.device_name = device_;
    o.limits.max_body_bytes = max_body_;
    o.max_clients = max_clients_;
    o.read_timeout_ms = read_timeout_ms_;
    BackendSpec spec;
    spec.name = backend_;
    spec.threads = threads_;
    spec.block_timing = block_timing_from_name(block_timing_);
    const std::unique_ptr<Backend> backend = make_backend(spec);
    AgentServer server(*backend, o);
    std::cerr << "hwnas agent: serving device '" << device_ << "' (" << backend->name() << ", "
              << threads_ << " threads) on http://" << listen_ << "\n";
    server.serve_forever();
    return 0;
  }

 private:
  std::string listen_ = "127.0.0.1:8765", token_, device_ = "agent", backend_ = "local",
              block_timing_ = "cold-weights";
  int threads_ = 2, max_clients_ = 8, read_timeout_ms_ = 5000;
  std::size_t max_body_ = 1 << 20;
};

HWNAS_REGISTER_COMMAND(AgentCommand, "agent",
                       "Serve this machine's latency measurements over HTTP");

}  // namespace
}  // namespace hwnas::apps
