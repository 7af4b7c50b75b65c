// Repeatability of one block's isolated latency: times the same BlockSpec several times, each
// with a fresh instance (fresh allocations, as the profiler does per row), and prints each
// median. A block whose medians fall into two clusters cannot be tabulated to a few per cent;
// this separates such instability from the block-versus-network question of
// bench_block_context.
// Usage: hwnas_bench_block_stability KEY [threads=2] [trials=12] [hot|cold-weights]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "evaluators/timing.h"
#include "profilers/block_timing.h"

int main(int argc, char** argv) {
  using namespace hwnas;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s KEY [threads] [trials] [hot|cold-weights]\n", argv[0]);
    return 2;
  }
  const BlockSpec spec = BlockSpec::parse(argv[1]);
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int trials = argc > 3 ? std::atoi(argv[3]) : 12;
  const BlockTiming mode = block_timing_from_name(argc > 4 ? argv[4] : "cold-weights");
  const TimingConfig timing{.warmup = 5, .min_repeats = 15, .min_time_ms = 100};
  std::vector<double> medians;
  for (int t = 0; t < trials; ++t) {
    const TimingStats s = time_block(spec, mode, threads, 1, static_cast<std::uint64_t>(t), timing);
    medians.push_back(s.median_ms);
    std::printf("trial %2d  median %.4f ms  p10 %.4f  p90 %.4f\n", t, s.median_ms, s.p10_ms,
                s.p90_ms);
  }
  const auto [lo, hi] = std::minmax_element(medians.begin(), medians.end());
  std::printf(
      "%s  threads %d  %s: medians %.4f .. %.4f ms (max/min %.3f), median of medians %.4f\n",
      argv[1], threads, block_timing_name(mode).c_str(), *lo, *hi, *hi / *lo,
      summarize_ms(medians).median_ms);
}
