// Whether the host's noise is a common slowdown: two networks timed back to back in many short
// rounds. If their raw medians swing together, the ratio A/B stays put while each one moves, and
// timing relative to a reference workload timed in the same window would cancel the noise.
// Usage: hwnas_bench_relative_timing [space:]A [space:]B [threads=2] [rounds=40] [window_ms=60]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "evaluators/model.h"
#include "evaluators/thread_scope.h"
#include "evaluators/timing.h"
#include "spaces/registry.h"

namespace {
using namespace hwnas;

Network network_of(const std::string& spec) {
  const auto colon = spec.find(':');
  const std::string space = colon == std::string::npos ? "efficientformer" : spec.substr(0, colon);
  const std::string arch = colon == std::string::npos ? spec : spec.substr(colon + 1);
  const SearchSpace& s = get_space(space);
  return s.decode(s.resolve(arch));
}

// Fraction of values within `tol` of the series' median, and max/min.
void report(const char* name, const std::vector<double>& v) {
  std::vector<double> s = v;
  std::sort(s.begin(), s.end());
  const double med = s[s.size() / 2];
  int within5 = 0, within2 = 0;
  for (double x : v) {
    within5 += std::abs(x / med - 1) <= 0.05;
    within2 += std::abs(x / med - 1) <= 0.02;
  }
  std::printf("%-10s median %9.4f  within 2 %% %5.2f  within 5 %% %5.2f  max/min %.3f\n", name, med,
              double(within2) / v.size(), double(within5) / v.size(), s.back() / s.front());
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s [space:]A [space:]B [threads] [rounds] [window_ms]\n", argv[0]);
    return 2;
  }
  const Network na = network_of(argv[1]), nb = network_of(argv[2]);
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 40;
  const double window_ms = argc > 5 ? std::atof(argv[5]) : 60;
  ThreadScope scope(threads);
  Model ma = Model::random(na, 1), mb = Model::random(nb, 2);
  Tensor ia(1, na.input.h, na.input.w, na.input.c), ib(1, nb.input.h, nb.input.w, nb.input.c);
  Tensor la, lb;
  const TimingConfig cfg{.warmup = 2, .min_repeats = 3, .min_time_ms = window_ms};
  std::vector<double> a, b, a10, b10;
  for (int r = 0; r < rounds; ++r) {
    const TimingStats sa = time_calls([&] { ma.forward(ia, la); }, cfg);
    const TimingStats sb = time_calls([&] { mb.forward(ib, lb); }, cfg);
    a.push_back(sa.median_ms);
    b.push_back(sb.median_ms);
    a10.push_back(sa.p10_ms);
    b10.push_back(sb.p10_ms);
    std::printf("round %2d  A %8.3f  B %8.3f  A/B %.4f   p10: A %8.3f B %8.3f A/B %.4f\n", r,
                sa.median_ms, sb.median_ms, sa.median_ms / sb.median_ms, sa.p10_ms, sb.p10_ms,
                sa.p10_ms / sb.p10_ms);
  }
  std::vector<double> ratio, ratio10;
  for (int r = 0; r < rounds; ++r) {
    ratio.push_back(a[r] / b[r]);
    ratio10.push_back(a10[r] / b10[r]);
  }
  report("A", a);
  report("B", b);
  report("A/B", ratio);
  report("A p10", a10);
  report("B p10", b10);
  report("A/B p10", ratio10);
}
