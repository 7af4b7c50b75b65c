// LutLatencyPredictor throughput as search uses it: decode + predict_ms per arch, on 1 and 2
// threads, over a complete (fake-device) EfficientFormer table at 224. Target: >= 200,000
// predictions/s on 2 cores. Medians over rounds after warm-up (evaluators/timing.h).
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "evaluators/timing.h"
#include "predictors/lut_latency_predictor.h"
#include "profilers/fake_backend.h"
#include "profilers/profiler.h"
#include "spaces/registry.h"

int main() {
  using namespace hwnas;
  const SearchSpace& space = get_space("efficientformer");
  const std::string db = (std::filesystem::temp_directory_path() / "hwnas_bench_lut.db").string();
  std::filesystem::remove(db);
  {
    LatencyTable table(db, LatencyTable::Mode::read_write);
    FakeBackend fake;
    ProfileOptions o;
    o.device_name = "fake";
    profile_space(space, 224, table, fake, o);
  }
  const auto pred = LutLatencyPredictor::open(db, "fake");
  Rng rng(0);
  const int n = 20000;
  std::vector<Arch> archs;
  for (int i = 0; i < n; ++i) archs.push_back(space.sample(rng));
  for (int threads : {1, 2}) {
    std::vector<double> sink(threads);
    const TimingStats t = time_calls(
        [&] {
          std::vector<std::thread> pool;
          for (int k = 0; k < threads; ++k)
            pool.emplace_back([&, k] {
              double s = 0;
              for (int i = k; i < n; i += threads) s += pred->predict_ms(space.decode(archs[i]));
              sink[k] += s;
            });
          for (auto& th : pool) th.join();
        },
        TimingConfig{.warmup = 2, .min_repeats = 10, .min_time_ms = 300});
    std::printf(
        "decode + predict_ms, %d thread(s): median %.2f ms per %d archs -> %.0f "
        "predictions/s (p10 %.2f, p90 %.2f ms, n=%d)\n",
        threads, t.median_ms, n, n / (t.median_ms / 1e3), t.p10_ms, t.p90_ms, t.repeats);
  }
  std::filesystem::remove(db);
}
