#include "profilers/agent_protocol.h"

#include <algorithm>

#include "core/error.h"

namespace hwnas {
namespace {

const nlohmann::json& field(const nlohmann::json& j, const char* name, const char* what) {
  if (!j.is_object() || !j.contains(name))
    throw Error(std::string(what) + ": missing field '" + name + "'");
  return j.at(name);
}

int int_field(const nlohmann::json& j, const char* name, const char* what) {
  const auto& v = field(j, name, what);
  if (!v.is_number_integer())
    throw Error(std::string(what) + ": '" + name + "' must be an integer");
  const auto x = v.get<std::int64_t>();
  if (x < 0 || x > 1000000000) throw Error(std::string(what) + ": '" + name + "' out of range");
  return static_cast<int>(x);
}

double num_field(const nlohmann::json& j, const char* name, const char* what) {
  const auto& v = field(j, name, what);
  if (!v.is_number()) throw Error(std::string(what) + ": '" + name + "' must be a number");
  return v.get<double>();
}

}  // namespace

std::int64_t block_memory_bytes(const BlockSpec& b) {
  // In double from the attributes alone: the spec may be absurd (that is what this refuses), so
  // no integer product of attributes may overflow before the check.
  const auto& names = block_attr_names(b.kind);
  auto attr = [&](std::string_view n, double dflt) {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == n) return static_cast<double>(b.attrs.at(i));
    return dflt;
  };
  const double c = attr("c", 1), cin = attr("cin", c), mlp = attr("mlp", 0);
  const double heads = attr("heads", 0), kd = attr("kd", 0), ar = attr("ar", 0);
  const double classes = attr("classes", 0), dist = attr("dist", 0);
  const double positions = b.kind == BlockKind::head ? attr("n", 1) : attr("h", 1) * attr("w", 1);
  const double activations = positions * (cin + c) + classes;
  const double hidden = positions * c * mlp;
  const double attention = heads * positions * positions;
  const double weights = 9 * cin * c + 2 * mlp * c * c + heads * kd * (2 + ar) * c * 2 +
                         (1 + dist) * classes * c + heads * positions;
  const double bytes = 4.0 * (activations + hidden + attention + weights);
  return bytes > 9.0e18 ? std::int64_t{9000000000000000000} : static_cast<std::int64_t>(bytes);
}

nlohmann::json timing_config_to_json(const TimingConfig& t) {
  return {{"warmup", t.warmup},
          {"min_repeats", t.min_repeats},
          {"min_time_ms", t.min_time_ms},
          {"max_repeats", t.max_repeats},
          {"min_cpu_share", t.min_cpu_share},
          {"max_retimes", t.max_retimes}};
}

TimingConfig timing_config_from_json(const nlohmann::json& j, const AgentLimits& limits) {
  const char* what = "timing";
  TimingConfig t;
  t.warmup = int_field(j, "warmup", what);
  t.min_repeats = int_field(j, "min_repeats", what);
  t.min_time_ms = num_field(j, "min_time_ms", what);
  t.max_repeats = int_field(j, "max_repeats", what);
  // Optional: clients built before issue 15 send neither; the agent's defaults then apply.
  if (j.contains("min_cpu_share")) t.min_cpu_share = num_field(j, "min_cpu_share", what);
  if (j.contains("max_retimes")) t.max_retimes = int_field(j, "max_retimes", what);
  if (t.min_repeats < 1 || t.max_repeats < t.min_repeats)
    throw Error("timing: need 1 <= min_repeats <= max_repeats");
  // Each retime repeats a whole window: 3 bounds a request's cost at 4 windows.
  if (!(t.min_cpu_share >= 0 && t.min_cpu_share <= 1) || t.max_retimes < 0 || t.max_retimes > 3)
    throw Error("timing: need min_cpu_share in [0, 1] and 0 <= max_retimes <= 3");
  if (t.warmup > limits.max_warmup || t.max_repeats > limits.max_repeats ||
      !(t.min_time_ms >= 0 && t.min_time_ms <= limits.max_min_time_ms))
    throw Error("timing: over the agent's limits (warmup <= " + std::to_string(limits.max_warmup) +
                ", max_repeats <= " + std::to_string(limits.max_repeats) +
                ", min_time_ms <= " + std::to_string(limits.max_min_time_ms) + ")");
  return t;
}

nlohmann::json timing_stats_to_json(const TimingStats& s) {
  const TimingConditions& c = s.conditions;
  return {{"median_ms", s.median_ms},
          {"p10_ms", s.p10_ms},
          {"p90_ms", s.p90_ms},
          {"mean_ms", s.mean_ms},
          {"std_ms", s.std_ms},
          {"min_ms", s.min_ms},
          {"repeats", s.repeats},
          {"conditions",
           {{"wall_ms", c.wall_ms},
            {"thread_cpu_ms", c.thread_cpu_ms},
            {"steal_ms", c.steal_ms},
            {"workers_wait_ms", c.workers_wait_ms},
            {"max_running", c.max_running},
            {"windows", c.windows},
            {"retimed", c.retimed}}}};
}

TimingStats timing_stats_from_json(const nlohmann::json& j) {
  const char* what = "agent result";
  TimingStats s;
  s.median_ms = num_field(j, "median_ms", what);
  s.p10_ms = num_field(j, "p10_ms", what);
  s.p90_ms = num_field(j, "p90_ms", what);
  s.mean_ms = num_field(j, "mean_ms", what);
  s.std_ms = num_field(j, "std_ms", what);
  s.min_ms = num_field(j, "min_ms", what);
  s.repeats = int_field(j, "repeats", what);
  // Optional: agents built before issue 15 do not send the conditions.
  if (j.contains("conditions")) {
    const nlohmann::json& c = j["conditions"];
    const char* cwhat = "agent result conditions";
    s.conditions.wall_ms = num_field(c, "wall_ms", cwhat);
    s.conditions.thread_cpu_ms = num_field(c, "thread_cpu_ms", cwhat);
    s.conditions.steal_ms = num_field(c, "steal_ms", cwhat);
    s.conditions.max_running = int_field(c, "max_running", cwhat);
    // Optional within the conditions: agents built before it was measured do not send it.
    if (c.contains("workers_wait_ms"))
      s.conditions.workers_wait_ms = num_field(c, "workers_wait_ms", cwhat);
    s.conditions.windows = int_field(c, "windows", cwhat);
    s.conditions.retimed = int_field(c, "retimed", cwhat);
  }
  return s;
}

std::vector<BlockSpec> blocks_from_json(const nlohmann::json& j, const AgentLimits& limits) {
  const auto& arr = field(j, "blocks", "request");
  if (!arr.is_array() || arr.empty())
    throw Error("request: 'blocks' must be a non-empty array of block keys");
  if (arr.size() > static_cast<std::size_t>(limits.max_blocks))
    throw Error("request: " + std::to_string(arr.size()) + " blocks, over the limit of " +
                std::to_string(limits.max_blocks) + " per request");
  std::vector<BlockSpec> out;
  std::int64_t total = 0;
  for (const auto& k : arr) {
    if (!k.is_string()) throw Error("request: every entry of 'blocks' must be a key string");
    BlockSpec b = BlockSpec::parse(k.get<std::string>());
    for (int v : b.attrs)
      if (v > 16384) throw Error("block " + b.key() + ": attributes must be <= 16384");
    const std::int64_t bytes = block_memory_bytes(b);
    if (bytes > limits.max_block_bytes)
      throw Error("block " + b.key() + " needs about " + std::to_string(bytes >> 20) +
                  " MiB, over the agent's limit of " +
                  std::to_string(limits.max_block_bytes >> 20) + " MiB");
    // Each term is at most max_block_bytes and there are at most max_blocks: no overflow.
    total += bytes;
    if (total > limits.max_request_bytes)
      throw Error("request: its blocks need about " + std::to_string(total >> 20) +
                  " MiB together (at block " + b.key() + "), over the agent's limit of " +
                  std::to_string(limits.max_request_bytes >> 20) +
                  " MiB per request; send fewer blocks per request");
    block_cost(b);  // rejects zero sizes where the kind needs positive ones
    block_output_shape(b);
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace hwnas
