// Wire format of the profiling agent (HTTP + JSON), shared by AgentServer and AgentBackend.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluators/runtime/timing.h"
#include "spaces/block_spec.h"

namespace hwnas {

/// Limits an agent enforces on each request; a request over any of them gets 400 with a message.
struct AgentLimits {
  std::size_t max_body_bytes = 1 << 20;      ///< request body size
  int max_blocks = 512;                      ///< keys per request
  std::int64_t max_block_bytes = 1LL << 30;  ///< block_memory_bytes() of any one block
  /// Sum of block_memory_bytes() over a request's blocks: a backend may hold them all at once
  /// (cold-weights benches of one call, a network's weights).
  std::int64_t max_request_bytes = 4LL << 30;
  int max_warmup = 1000;
  int max_repeats = 100000;
  double max_min_time_ms = 10000.0;
};

/// Estimated fp32 memory of running one block at batch 1, in bytes: input, output, parameters,
/// the widest hidden activation (MLP hidden = mlp * c per position) and, for attention, the
/// heads x n x n score matrix. An upper bound used to refuse absurd requests, not an allocator.
/// Throws hwnas::Error if the spec is inconsistent.
std::int64_t block_memory_bytes(const BlockSpec& spec);

/// {"warmup":..,"min_repeats":..,"min_time_ms":..,"max_repeats":..}.
nlohmann::json timing_config_to_json(const TimingConfig& t);
/// Strict inverse of timing_config_to_json, checked against `limits`; throws hwnas::Error.
TimingConfig timing_config_from_json(const nlohmann::json& j, const AgentLimits& limits);

/// {"median_ms","p10_ms","p90_ms","mean_ms","std_ms","min_ms","repeats"}.
nlohmann::json timing_stats_to_json(const TimingStats& s);
/// Strict inverse; throws hwnas::Error naming a missing field.
TimingStats timing_stats_from_json(const nlohmann::json& j);

/// Parses and checks the "blocks" array of keys of a request against `limits` (count, known
/// kinds, valid attributes, memory of each block and of all together), before anything is
/// allocated for them. Throws hwnas::Error naming the offending key or the request's total.
std::vector<BlockSpec> blocks_from_json(const nlohmann::json& j, const AgentLimits& limits);

}  // namespace hwnas
