#include "profilers/agent_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>

#include "core/error.h"

namespace hwnas {
namespace {

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", message}}.dump(), "application/json");
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// httplib's own pool queues every accepted connection without limit, so a flood of clients
// grows memory without bound. This one blocks the accept loop while `max_queued` connections
// wait, which leaves further clients in the kernel's backlog.
class BoundedQueue final : public httplib::TaskQueue {
 public:
  BoundedQueue(int workers, int max_queued) : max_queued_(static_cast<std::size_t>(max_queued)) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return jobs_.size() < max_queued_ || shutdown_; });
    jobs_.push_back(std::move(fn));
    ready_.notify_one();
  }
  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      shutdown_ = true;
    }
    ready_.notify_all();
    space_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;  // shut down and drained
        fn = std::move(jobs_.front());
        jobs_.pop_front();
        space_.notify_one();
      }
      fn();
    }
  }

  std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  bool shutdown_ = false;
};

}  // namespace

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

AgentServer::AgentServer(Backend& backend, AgentOptions options)
    : backend_(backend), opt_(std::move(options)), server_(std::make_unique<httplib::Server>()) {
  if (!is_loopback_host(opt_.host) && opt_.token.empty())
    throw Error("agent: binding " + opt_.host +
                " (not loopback) requires --token T; clients "
                "then send `Authorization: Bearer T`");
  if (opt_.max_clients < 1 || opt_.max_queued < 1 || opt_.read_timeout_ms < 1 ||
      opt_.write_timeout_ms < 1)
    throw Error("agent: --max-clients, the queue and the timeouts must be positive");
  install_routes();
}

AgentServer::~AgentServer() { stop(); }

std::string AgentServer::device_json() {
  std::lock_guard lock(device_mutex_);
  if (device_json_.empty()) {
    std::lock_guard measuring(measure_mutex_);
    device_json_ = device_profile_to_json(backend_.device(opt_.device_name)).dump();
  }
  return device_json_;
}

void AgentServer::install_routes() {
  auto& s = *server_;
  const int workers = opt_.max_clients, queued = opt_.max_queued;
  s.new_task_queue = [workers, queued] { return new BoundedQueue(workers, queued); };
  s.set_read_timeout(std::chrono::milliseconds(opt_.read_timeout_ms));
  s.set_write_timeout(std::chrono::milliseconds(opt_.write_timeout_ms));
  s.set_keep_alive_timeout(std::max<time_t>(1, (opt_.read_timeout_ms + 999) / 1000));
  // httplib writes a reply's headers and body separately: with Nagle's algorithm against the
  // client's delayed ACK every small reply waited about 40 ms.
  s.set_tcp_nodelay(true);
  // httplib's default sets SO_REUSEPORT, with which a second agent on the same port starts
  // without an error and takes half of the connections; SO_REUSEADDR alone still allows a quick
  // restart.
  s.set_socket_options([this](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd_ = sock;
  });
  // httplib answers an oversize body with 413 before any handler; the agent's contract is 400.
  s.set_payload_max_length(opt_.limits.max_body_bytes);
  s.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
    if (res.status == 413)
      send_error(res, 400,
                 "request body over the agent's limit of " +
                     std::to_string(opt_.limits.max_body_bytes) + " bytes");
    else if (res.status == 404)
      send_error(res, 404,
                 "unknown endpoint; the agent serves GET /v1/device, POST /v1/measure "
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
  s.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          send_error(res, 500, std::string("agent failure: ") + e.what());
        } catch (...) {
          send_error(res, 500, "agent failure");
        }
      });

  s.Get("/v1/device", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(device_json(), "application/json");
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
      nlohmann::json reply;
      const std::int64_t start = steady_ns();
      if (network) {
        Network net;
        net.space = "agent";
        net.input = block_input_shape(blocks.front());
        net.blocks = blocks;
        reply["result"] = timing_stats_to_json(backend_.measure_network(net, timing));
      } else {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& s : backend_.measure_blocks(blocks, timing))
          out.push_back(timing_stats_to_json(s));
        reply["results"] = std::move(out);
      }
      // Taken under the lock, so a client can check that no two measurements overlapped.
      reply["measure_start_ns"] = start;
      reply["measure_end_ns"] = steady_ns();
      res.set_content(reply.dump(), "application/json");
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
  // httplib listens with a backlog of 5: a burst of a few more connections than that lost its
  // SYNs, and those clients waited a second for the retransmission. Listening again on the
  // bound socket only raises the backlog.
  if (listen_fd_ >= 0) ::listen(listen_fd_, opt_.max_clients + opt_.max_queued);
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
