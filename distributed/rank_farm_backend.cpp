#include "distributed/rank_farm_backend.h"

#include "core/error.h"
#include "profilers/agent_protocol.h"
#include "profilers/block_timing.h"
#include "profilers/device_profile.h"

namespace hwnas::mpi {
namespace {

// Tags of the profiling messages (the search's are 1-5).
enum Tag : int { kOrder = 21, kAnswer = 22 };

nlohmann::json keys_of(const std::vector<BlockSpec>& blocks) {
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& b : blocks) keys.push_back(b.key());
  return keys;
}

std::vector<BlockSpec> blocks_of(const nlohmann::json& keys) {
  std::vector<BlockSpec> blocks;
  for (const auto& k : keys) blocks.push_back(BlockSpec::parse(k.get<std::string>()));
  return blocks;
}

// An answer's error (naming the rank), or nothing.
void throw_if_error(int rank, const nlohmann::json& answer, const std::string& what) {
  if (answer.contains("error"))
    throw Error("rank " + std::to_string(rank) + ", " + what + ": " +
                answer["error"].get<std::string>());
}

}  // namespace

RankFarmBackend::RankFarmBackend(Session& session, std::unique_ptr<Backend> local,
                                 BlockTiming block_timing,
                                 std::vector<std::size_t>* blocks_per_rank)
    : session_(session),
      local_(std::move(local)),
      block_timing_(block_timing),
      per_rank_(blocks_per_rank ? blocks_per_rank : &own_counts_) {
  if (session.size() < 2) throw Error("RankFarmBackend needs at least 2 ranks");
  per_rank_->assign(static_cast<std::size_t>(session.size()), 0);
}

RankFarmBackend::~RankFarmBackend() { release_backend_workers(session_); }

std::string RankFarmBackend::name() const {
  return "mpi " + std::to_string(session_.size() - 1) + " x " + local_->name();
}

void RankFarmBackend::setup(const std::string& device_name) {
  if (ready_) return;
  for (int rank = 1; rank < session_.size(); ++rank)
    send_json(rank, kOrder,
              {{"op", "setup"},
               {"device", device_name},
               {"block_timing", block_timing_name(block_timing_)}});
  const DeviceProfile mine = local_->device(device_name);
  std::string problem;
  for (int answers = 1; answers < session_.size(); ++answers) {
    const auto [rank, answer] = receive_json(-1, kAnswer);
    if (!problem.empty()) continue;  // every answer is taken, so none is left queued
    if (answer.contains("error")) {
      problem = "rank " + std::to_string(rank) +
                " cannot build its backend: " + answer["error"].get<std::string>();
      continue;
    }
    const DeviceProfile theirs = device_profile_from_json(answer["device"]);
    const std::string diff = theirs.diff(mine);
    if (!diff.empty())
      problem = "rank " + std::to_string(rank) + " is another device than rank 0 (" + diff +
                "): one table holds one device, so profile a farm of identical devices per job";
  }
  if (!problem.empty()) throw Error(problem);
  ready_ = true;
}

DeviceProfile RankFarmBackend::device(const std::string& device_name) {
  setup(device_name);
  return local_->device(device_name);
}

std::vector<TimingStats> RankFarmBackend::measure_blocks(const std::vector<BlockSpec>& blocks,
                                                         const TimingConfig& timing) {
  if (!ready_) throw Error("RankFarmBackend: device() must be called first");
  std::vector<TimingStats> out(blocks.size());
  std::size_t next = 0, done = 0;
  const nlohmann::json timing_json = timing_config_to_json(timing);
  auto send = [&](int rank) {
    send_json(rank, kOrder,
              {{"op", "blocks"},
               {"index", next},
               {"blocks", keys_of({blocks[next]})},
               {"timing", timing_json}});
    ++next;
  };
  for (int rank = 1; rank < session_.size() && next < blocks.size(); ++rank) send(rank);
  std::string first_error;
  while (done < blocks.size()) {
    const auto [rank, answer] = receive_json(-1, kAnswer);
    const auto index = answer.at("index").get<std::size_t>();
    if (answer.contains("error")) {
      if (first_error.empty())
        first_error = "rank " + std::to_string(rank) + ", block " + blocks[index].key() + ": " +
                      answer["error"].get<std::string>();
    } else {
      out[index] = timing_stats_from_json(answer.at("stats").at(0));
      ++(*per_rank_)[static_cast<std::size_t>(rank)];
    }
    ++done;
    if (next < blocks.size()) send(rank);
  }
  if (!first_error.empty()) throw Error(first_error);
  return out;
}

TimingStats RankFarmBackend::measure_network(const Network& net, const TimingConfig& timing) {
  if (!ready_) throw Error("RankFarmBackend: device() must be called first");
  const int rank = next_network_rank_;
  next_network_rank_ = next_network_rank_ % (session_.size() - 1) + 1;
  send_json(rank, kOrder,
            {{"op", "network"},
             {"blocks", keys_of(net.blocks)},
             {"timing", timing_config_to_json(timing)}});
  const auto [from, answer] = receive_json(rank, kAnswer);
  throw_if_error(from, answer, "network of " + std::to_string(net.blocks.size()) + " blocks");
  return timing_stats_from_json(answer.at("stats"));
}

int RankFarmBackend::preferred_batch() const {
  // One block per worker per transaction: a row is stored as soon as its round is in, so a job
  // that loses a rank loses at most the rows then being measured.
  return session_.size() - 1;
}

void release_backend_workers(Session& session) {
  for (int rank = 1; rank < session.size(); ++rank) send_json(rank, kOrder, {{"op", "stop"}});
}

void serve_backend(const BackendSpec& spec) {
  std::unique_ptr<Backend> backend;
  while (true) {
    const auto [from, order] = receive_json(0, kOrder);
    const std::string op = order.value("op", "");
    if (op == "stop") return;
    nlohmann::json answer;
    try {
      if (op == "setup") {
        BackendSpec s = spec;
        s.block_timing = block_timing_from_name(order.at("block_timing").get<std::string>());
        backend = make_backend(s);
        answer["device"] =
            device_profile_to_json(backend->device(order.at("device").get<std::string>()));
      } else if (!backend) {
        throw Error("measurement before setup");
      } else if (op == "blocks") {
        answer["index"] = order.at("index");
        const TimingConfig timing = timing_config_from_json(order.at("timing"), AgentLimits{});
        answer["stats"] = nlohmann::json::array();
        for (const auto& s : backend->measure_blocks(blocks_of(order.at("blocks")), timing))
          answer["stats"].push_back(timing_stats_to_json(s));
      } else if (op == "network") {
        Network net;
        net.blocks = blocks_of(order.at("blocks"));
        if (net.blocks.empty()) throw Error("a network without blocks");
        net.space = "mpi";
        net.input = block_input_shape(net.blocks.front());
        const TimingConfig timing = timing_config_from_json(order.at("timing"), AgentLimits{});
        answer["stats"] = timing_stats_to_json(backend->measure_network(net, timing));
      } else {
        throw Error("unknown order '" + op + "'");
      }
    } catch (const std::exception& e) {
      answer["error"] = e.what();
      if (order.contains("index")) answer["index"] = order["index"];
    }
    send_json(0, kAnswer, answer);
  }
}

}  // namespace hwnas::mpi
