// The embedded default of `hwnas search`: when the host's latency table is missing or lacks the
// searched space, profile that space first (every resolution it searches, 2 engine threads, as
// `hwnas profile` does; rows already present are kept).
#include <unistd.h>

#include <iostream>
#include <vector>

#include "apps/search_hooks.h"
#include "profilers/block_timing_choice.h"
#include "profilers/device_profile.h"
#include "profilers/local_backend.h"
#include "profilers/profiler.h"
#include "spaces/registry.h"

namespace hwnas::apps {
namespace {

void profile_host_table(const std::string& db, const std::string& device,
                        const SearchSpace& space) {
  // Only this machine can be profiled in-process; other devices need `hwnas profile --agent`.
  if (device != "host") return;
  LatencyTable table(db, LatencyTable::Mode::read_write);
  ProfileOptions options;
  options.progress = &std::cerr;
  options.progress_is_terminal = isatty(STDERR_FILENO) != 0;
  const int first = space_resolutions(space).front();
  const BlockTiming mode =
      resolve_local_block_timing(table, host_device_profile(device, 2, 1), space.name(), first,
                                 block_timing_probe_networks(space, first, 4, options.seed),
                                 options.seed, options.timing, options.windows, false, &std::cerr);
  LocalBackend backend(2, 1, options.seed, mode);
  for (int r : space_resolutions(space)) {
    std::cerr << "hwnas: the latency table of device 'host' in '" << db << "' lacks the "
              << space.name() << " space at " << r << ": profiling it first (2 threads; `hwnas "
              << "profile --space " << space.name() << " --resolution " << r
              << "` does the same)\n";
    const ProfileReport rep = profile_space(space, r, table, backend, options);
    std::cerr << "hwnas: profiled " << rep.blocks_measured << " blocks in " << rep.seconds
              << " s\n";
  }
}

const bool registered = [] {
  missing_table_hook() = profile_host_table;
  return true;
}();

}  // namespace
}  // namespace hwnas::apps
