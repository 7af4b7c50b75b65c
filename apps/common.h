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

}  // namespace hwnas::apps
