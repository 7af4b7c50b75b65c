// Decode throughput of the search spaces: the part of every search evaluation that turns genes
// into blocks. Reports the median over rounds after warm-up (evaluators/timing.h).
#include <cstdio>
#include <vector>

#include "evaluators/timing.h"
#include "spaces/registry.h"

int main() {
  using namespace hwnas;
  for (const auto& name : space_names()) {
    const SearchSpace& space = get_space(name);
    Rng rng(0);
    std::vector<Arch> archs;
    for (int i = 0; i < 10000; ++i) archs.push_back(space.sample(rng));
    std::int64_t sink = 0;
    const TimingStats t = time_calls(
        [&] {
          for (const Arch& a : archs) sink += space.decode(a).blocks.size();
        },
        TimingConfig{.warmup = 3, .min_repeats = 15, .min_time_ms = 300});
    std::printf(
        "%-16s decode: median %.3f ms per 10k archs -> %.0f archs/s (p10 %.3f, p90 %.3f, n=%d)%s\n",
        name.c_str(), t.median_ms, 1e4 / (t.median_ms / 1e3), t.p10_ms, t.p90_ms, t.repeats,
        sink ? "" : " ");
  }
}
