#include "evaluators/runtime/host_activity.h"

#include <dirent.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace hwnas {

namespace {
// Sum of the run-queue delay (ns) of the process's threads other than the caller's.
double others_wait_ms() {
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return 0;
  const long self = syscall(SYS_gettid);
  unsigned long long wait_ns = 0;
  char path[sizeof "/proc/self/task/" + sizeof(dirent::d_name) + sizeof "/schedstat"];
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9' || std::atol(e->d_name) == self) continue;
    std::snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
    std::FILE* f = std::fopen(path, "r");
    if (!f) continue;  // the thread exited since readdir
    unsigned long long run_ns = 0, waited_ns = 0;
    if (std::fscanf(f, "%llu %llu", &run_ns, &waited_ns) == 2) wait_ns += waited_ns;
    std::fclose(f);
  }
  closedir(dir);
  return static_cast<double>(wait_ns) * 1e-6;
}
}  // namespace

HostActivity read_host_activity() {
  HostActivity a;
  a.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
    a.thread_cpu_ms = static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
  // stdio rather than iostreams: this runs twice per timing window, next to the timed code.
  a.others_wait_ms = others_wait_ms();
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
