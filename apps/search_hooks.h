// Hooks that `hwnas search` calls so other parts of the CLI can help it (wired at integration).
#pragma once

#include <functional>
#include <string>

#include "spaces/search_space.h"

namespace hwnas::apps {

/// Called by `hwnas search` when the latency table (db_path, device) cannot be opened or lacks
/// rows of the searched space, before it retries once; e.g. to profile the host table for that
/// space first. Empty by default (the error is reported as is). Set it from a static
/// initialiser or from main.
std::function<void(const std::string& db_path, const std::string& device,
                   const SearchSpace& space)>&
missing_table_hook();

}  // namespace hwnas::apps
