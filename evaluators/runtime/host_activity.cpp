#include "evaluators/runtime/host_activity.h"

#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

namespace hwnas {

HostActivity read_host_activity() {
  HostActivity a;
  a.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
    a.thread_cpu_ms = static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
  // stdio rather than iostreams: this runs twice per timing window, next to the timed code.
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return a;
  static const double ms_per_tick = 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  char line[512];
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "cpu ", 4) == 0) {
      unsigned long long v[8] = {};
      if (std::sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                      &v[3], &v[4], &v[5], &v[6], &v[7]) == 8)
        a.steal_ms = static_cast<double>(v[7]) * ms_per_tick;
    } else if (std::strncmp(line, "procs_running ", 14) == 0) {
      a.procs_running = std::atoi(line + 14);
      break;  // the last field hwnas needs; the rest of the file is not read
    }
  }
  std::fclose(f);
  return a;
}

}  // namespace hwnas
