// Options and helpers shared by several subcommands.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "spaces/search_space.h"

namespace hwnas::apps {

/// Adds `--space S` (default efficientformer) to `app`.
void add_space_option(CLI::App& app, std::string& space);
/// Adds `--arch A` (a named member, inline JSON or a JSON file path) to `app`.
void add_arch_option(CLI::App& app, std::string& arch, bool required = true);
/// The space and arch named on the command line. Throws hwnas::Error on unknown ones.
const SearchSpace& resolve_space(const std::string& space);

}  // namespace hwnas::apps
