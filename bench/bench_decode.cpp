// Decode throughput of the search spaces: the part of every search evaluation that turns genes
// into blocks. One benchmark per space, decode/<space>: an iteration decodes the same 10,000
// sampled archs (Rng(0)); counter archs_per_s.
//
// Parameters: --space=NAME (repeated; default: every registered space).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "spaces/registry.h"

namespace hwnas::bench {
namespace {

constexpr int kArchs = 10000;

// The sampled archs of each space, drawn once (not per repetition).
const std::vector<Arch>& archs_of(const SearchSpace& space, const std::string& name) {
  static std::map<std::string, std::vector<Arch>> cache;
  auto& archs = cache[name];
  if (archs.empty()) {
    Rng rng(0);
    for (int i = 0; i < kArchs; ++i) archs.push_back(space.sample(rng));
  }
  return archs;
}

void decode(benchmark::State& state, const std::string& name) {
  const SearchSpace& space = get_space(name);
  const auto& archs = archs_of(space, name);
  std::int64_t sink = 0;
  const auto once = [&] {
    for (const Arch& a : archs) sink += static_cast<std::int64_t>(space.decode(a).blocks.size());
  };
  warm_up(3, once);
  for (auto _ : state) {
    once();
    benchmark::DoNotOptimize(sink);
  }
  state.counters["archs_per_s"] =
      benchmark::Counter(kArchs, benchmark::Counter::kIsIterationInvariantRate);
}

void register_benchmarks(Params& params) {
  for (const auto& name : params.strings("space", space_names())) {
    get_space(name);  // an unknown name fails here, listing the known ones
    timed(benchmark::RegisterBenchmark(("decode/" + name).c_str(), decode, name),
          Timed{.repetitions = 5, .min_time_s = 0.3});
  }
  benchmark::AddCustomContext("archs_per_iteration", std::to_string(kArchs));
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  return hwnas::bench::run(argc, argv,
                           {"decode",
                            "  --space=NAME   a search space to decode (repeated; default: all)",
                            {},
                            hwnas::bench::register_benchmarks});
}
