#include "profilers/host_table.h"

#include <unistd.h>

#include <filesystem>
#include <ostream>

#include "core/error.h"
#include "evaluators/quant/engine_precision.h"
#include "profilers/block_timing_choice.h"
#include "profilers/device_profile.h"
#include "profilers/latency_table.h"
#include "profilers/local_backend.h"
#include "profilers/profiler.h"

namespace hwnas {

bool table_covers_space(const std::string& db, const std::string& device,
                        const SearchSpace& space) {
  if (!std::filesystem::exists(db)) return false;
  const LatencyTable table(db, LatencyTable::Mode::read_only);
  if (!table.find_device(device)) return false;
  const auto keys = table.keys(device);
  for (const Arch& a : {space.smallest(), space.largest()})
    for (const auto& block : space.decode(a).blocks)
      if (!keys.count(block.key())) return false;
  return true;
}

std::string int8_device_name(const std::string& device, const std::string& int8_precision) {
  return device + "-" + int8_precision;
}

std::string host_device_name(const std::string& precision) {
  const RunPrecision run = parse_run_precision(precision);
  if (run.mixed || !run.engine.int8) return "host";
  return "host-" + precision;  // host-int8, host-int8-dwfaster, ...
}

void profile_host_table(const std::string& db, const std::string& device, const SearchSpace& space,
                        std::ostream* log, const std::string& precision) {
  if (device != host_device_name(precision))
    throw Error("the latency table '" + db + "' lacks device '" + device + "' rows for the " +
                space.name() + " space, and only '" + host_device_name(precision) +
                "' can be profiled in this process: run `hwnas " + "profile --agent URL --device " +
                device + " --space " + space.name() + "` first");
  LocalBackend::require_precision(precision);  // before the table file is created
  LatencyTable table(db, LatencyTable::Mode::read_write);
  ProfileOptions options;
  options.device_name = device;  // not ProfileOptions' default "host": int8 rows have their own
  options.progress = log;
  options.progress_is_terminal = log != nullptr && isatty(STDERR_FILENO) != 0;
  const int first = space_resolutions(space).front();
  const BlockTiming mode =
      resolve_local_block_timing(table, host_device_profile(device, 2, 1, precision), space.name(),
                                 first, block_timing_probe_networks(space, first, 4, options.seed),
                                 options.seed, options.timing, options.windows, false, log);
  LocalBackend backend(2, 1, options.seed, mode, precision);
  for (int r : space_resolutions(space)) {
    if (log)
      *log << "hwnas: the latency table of device '" << device << "' in '" << db << "' lacks the "
           << space.name() << " space at " << r << ": profiling it first (2 threads; `hwnas "
           << "profile --space " << space.name() << " --resolution " << r << "` does the same)\n";
    const ProfileReport rep = profile_space(space, r, table, backend, options);
    if (log)
      *log << "hwnas: profiled " << rep.blocks_measured << " blocks in " << rep.seconds << " s\n";
  }
}

}  // namespace hwnas
