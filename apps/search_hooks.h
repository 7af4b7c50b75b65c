// Hooks that `hwnas search` calls so other parts of the CLI can help it (wired at integration).
#pragma once

#include <functional>
#include <string>

namespace hwnas::apps {

/// Called by `hwnas search` when the latency table (db_path, device) cannot be opened, before it
/// retries once; e.g. to profile the host table first. Empty by default (the open error is
/// reported as is). Set it from a static initialiser or from main.
std::function<void(const std::string& db_path, const std::string& device)>& missing_table_hook();

}  // namespace hwnas::apps
