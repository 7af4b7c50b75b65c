// Options and helpers shared by several subcommands.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "evaluators/runtime/timing.h"
#include "spaces/search_space.h"

namespace hwnas::apps {

/// Adds `--space S` (default efficientformer) to `app`.
void add_space_option(CLI::App& app, std::string& space);
/// Adds `--arch A` (a named member, inline JSON or a JSON file path) to `app`.
void add_arch_option(CLI::App& app, std::string& arch, bool required = true);
/// Adds the timing method's options for `what` ("block", "subnet"): --windows (1-20),
/// --warmup, --min-repeats, --min-time-ms (ms), writing into `windows` and `timing`.
void add_timing_options(CLI::App& app, const std::string& what, TimingConfig& timing, int& windows);
/// Adds `--depthwise int8|faster|fp32` (default int8: the depthwise rule of int8 layers,
/// evaluators/quant/engine_precision.h) with `help` after the accepted values; count() > 0 on
/// the returned option says it was given.
CLI::Option* add_depthwise_option(CLI::App& app, std::string& rule, const std::string& help);
/// The int8 precision a +precision space's int8 stages take under depthwise rule `rule`
/// (int8_precision_name; their twin device is int8_device_name(DEVICE, this)). Throws
/// hwnas::Error if `given` while `space` has no precision genes (the rule would say nothing).
std::string mixed_int8_precision(const SearchSpace& space, const std::string& rule, bool given);

}  // namespace hwnas::apps
