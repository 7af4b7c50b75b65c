// The embedded default of `hwnas search`: when the host's latency table is missing, profile it
// first (the whole EfficientFormer space at 224, 2 engine threads, as `hwnas profile` does).
#include <unistd.h>

#include <iostream>

#include "apps/search_hooks.h"
#include "profilers/local_backend.h"
#include "profilers/profiler.h"
#include "spaces/registry.h"

namespace hwnas::apps {
namespace {

void profile_host_table(const std::string& db, const std::string& device) {
  // Only this machine can be profiled in-process; other devices need `hwnas profile --agent`.
  if (device != "host") return;
  std::cerr << "hwnas: no latency table for device 'host' in '" << db
            << "': profiling the EfficientFormer space at 224 first (2 threads; `hwnas profile` "
               "does the same)\n";
  LatencyTable table(db, LatencyTable::Mode::read_write);
  LocalBackend backend(2);
  ProfileOptions options;
  options.progress = &std::cerr;
  options.progress_is_terminal = isatty(STDERR_FILENO) != 0;
  const ProfileReport r = profile_space(get_space("efficientformer"), 224, table, backend, options);
  std::cerr << "hwnas: profiled " << r.blocks_measured << " blocks in " << r.seconds << " s\n";
}

const bool registered = [] {
  missing_table_hook() = profile_host_table;
  return true;
}();

}  // namespace
}  // namespace hwnas::apps
