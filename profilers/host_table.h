// The embedded default of `hwnas search`: a host latency table made on first use. A search on
// device "host" whose table is missing, or lacks the searched space, profiles that space first,
// as `hwnas profile --space S --resolution R --block-timing auto` would.
#pragma once

#include <iosfwd>
#include <string>

#include "spaces/search_space.h"

namespace hwnas {

/// True when table file `db` holds device `device` with a row for every block of `space`'s
/// smallest and largest members (at the space's default resolution): the search can then price
/// its candidates. False for a missing file or device. Throws hwnas::Error on a file that is
/// not a latency table.
bool table_covers_space(const std::string& db, const std::string& device, const SearchSpace& space);

/// Profiles `space` into table `db` under device "host": every resolution the space searches,
/// 2 engine threads, batch 1, the block timing chosen by timing whole networks
/// (block_timing_choice.h); rows already present are kept. Progress and a one-line notice per
/// resolution go to `log` (may be null). Throws hwnas::Error for any device other than "host"
/// (only this machine can be profiled in-process: `hwnas profile --agent` profiles another),
/// and whatever profiling throws (disk full, interrupted).
void profile_host_table(const std::string& db, const std::string& device, const SearchSpace& space,
                        std::ostream* log);

}  // namespace hwnas
