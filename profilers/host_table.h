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

/// The device name of the int8 table paired with fp32 device `device` in a mixed-precision
/// search: `device` + "-" + `int8_precision` ("D-int8"; "D-int8-dwfaster" for mixed-dwfaster).
std::string int8_device_name(const std::string& device, const std::string& int8_precision = "int8");
/// "host" (fp32 and mixed*), or "host-" + the int8 precision ("host-int8", "host-int8-dwfaster",
/// "host-int8-dwfp32"; evaluators/quant/engine_precision.h): the device name of this machine's
/// own table at a precision. Throws hwnas::Error for an unknown precision.
std::string host_device_name(const std::string& precision);

/// Profiles `space` into table `db` under device host_device_name(precision): every resolution
/// the space searches, 2 engine threads, batch 1, in fp32 with the block timing chosen by timing
/// whole networks (block_timing_choice.h), in int8 cold-weights; rows already present are kept.
/// Progress and a one-line notice per resolution go to `log` (may be null). Throws
/// hwnas::Error for any other device (only this machine can be profiled in-process: `hwnas
/// profile --agent` profiles another), and whatever profiling throws (disk full, interrupted,
/// int8 on a CPU without AVX2, VNNI or AMX).
void profile_host_table(const std::string& db, const std::string& device, const SearchSpace& space,
                        std::ostream* log, const std::string& precision = "fp32");

}  // namespace hwnas
