#include "profilers/agent_server.h"

#include <httplib.h>

#include <chrono>

#include "spaces/error.h"

namespace hwnas {
namespace {

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", message}}.dump(), "application/json");
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

AgentServer::AgentServer(Backend& backend, AgentOptions options)
    : backend_(backend), opt_(std::move(options)), server_(std::make_unique<httplib::Server>()) {
  if (!is_loopback_host(opt_.host) && opt_.token.empty())
    throw Error("agent: binding " + opt_.host + " (not loopback) requires --token T; clients "
                "then send `Authorization: Bearer T`");
  install_routes();
}

AgentServer::~AgentServer() { stop(); }

void AgentServer::install_routes() {
  auto& s = *server_;
  // httplib answers an oversize body with 413 before any handler; the agent's contract is 400.
  s.set_payload_max_length(opt_.limits.max_body_bytes);
  s.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
    if (res.status == 413)
      send_error(res, 400, "request body over the agent's limit of " +
                               std::to_string(opt_.limits.max_body_bytes) + " bytes");
    else if (res.status == 404)
      send_error(res, 404, "unknown endpoint; the agent serves GET /v1/device, POST /v1/measure "
                           "and POST /v1/measure_network");
    else if (res.body.empty())
      send_error(res, res.status, "request failed");
  });
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (opt_.token.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (req.get_header_value("Authorization") == "Bearer " + opt_.token)
      return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, 401, "missing or wrong bearer token (send `Authorization: Bearer <token>`)");
    return httplib::Server::HandlerResponse::Handled;
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      send_error(res, 500, std::string("agent failure: ") + e.what());
    } catch (...) {
      send_error(res, 500, "agent failure");
    }
  });

  s.Get("/v1/device", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(measure_mutex_);
    res.set_content(device_profile_to_json(backend_.device(opt_.device_name)).dump(),
                    "application/json");
  });

  // Both measure endpoints share parsing and validation; only the timed work differs.
  auto measure = [this](const httplib::Request& req, httplib::Response& res, bool network) {
    if (req.body.size() > opt_.limits.max_body_bytes)
      return send_error(res, 400, "request body over the agent's limit");
    nlohmann::json body;
    std::vector<BlockSpec> blocks;
    TimingConfig timing;
    try {
      body = nlohmann::json::parse(req.body);
      if (!body.is_object()) throw Error("request: body must be a JSON object");
      blocks = blocks_from_json(body, opt_.limits);
      if (!body.contains("timing")) throw Error("request: missing field 'timing'");
      timing = timing_config_from_json(body["timing"], opt_.limits);
      if (network) {
        Network net;
        net.space = "agent";
        net.input = block_input_shape(blocks.front());
        net.blocks = blocks;
        net.check_shapes();
      }
    } catch (const nlohmann::json::exception& e) {
      return send_error(res, 400, std::string("request: malformed JSON (") + e.what() + ")");
    } catch (const Error& e) {
      return send_error(res, 400, e.what());
    }
    std::lock_guard lock(measure_mutex_);
    try {
      if (network) {
        Network net;
        net.space = "agent";
        net.input = block_input_shape(blocks.front());
        net.blocks = blocks;
        res.set_content(
            nlohmann::json{{"result", timing_stats_to_json(backend_.measure_network(net, timing))}}
                .dump(),
            "application/json");
      } else {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& s : backend_.measure_blocks(blocks, timing))
          out.push_back(timing_stats_to_json(s));
        res.set_content(nlohmann::json{{"results", out}}.dump(), "application/json");
      }
    } catch (const Error& e) {
      send_error(res, 400, e.what());
    }
  };
  s.Post("/v1/measure", [measure](const httplib::Request& req, httplib::Response& res) {
    measure(req, res, false);
  });
  s.Post("/v1/measure_network", [measure](const httplib::Request& req, httplib::Response& res) {
    measure(req, res, true);
  });
}

int AgentServer::bind() {
  if (opt_.port == 0) {
    port_ = server_->bind_to_any_port(opt_.host);
  } else {
    port_ = server_->bind_to_port(opt_.host, opt_.port) ? opt_.port : -1;
  }
  if (port_ < 0)
    throw Error("agent: cannot bind " + opt_.host + ":" + std::to_string(opt_.port) +
                " (address in use or not local?)");
  return port_;
}

int AgentServer::start() {
  bind();
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() only interrupts a server that is already listening: wait for it.
  for (int i = 0; i < 5000 && !server_->is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port_;
}

void AgentServer::serve_forever() {
  bind();
  server_->listen_after_bind();
}

void AgentServer::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace hwnas
