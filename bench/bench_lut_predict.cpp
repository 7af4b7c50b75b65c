// LutLatencyPredictor throughput as search uses it: decode + predict_ms per arch, over a
// complete (fake-device) EfficientFormer table at 224. lut_predict/corrected:C/threads:T: an
// iteration predicts the same 20,000 sampled archs (Rng(0)) on T std::threads (arch i on thread
// i mod T, threads started per iteration); counter predictions_per_s. C = 1 predicts with a
// learned correction (ridge-per-kind-stage-v2, fitted on 64 of the archs against a made-up
// per-kind drift), as `hwnas search` does when the table stores one; C = 0 is the plain sum.
// Target: >= 200,000 predictions/s on 2 cores (context "target_predictions_per_s").
//
// Parameters: --threads=LIST (default 1,2), --corrected=LIST (default 0,1).
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_common.h"
#include "predictors/latency_correction.h"
#include "predictors/lut_latency_predictor.h"
#include "profilers/fake_backend.h"
#include "profilers/profiler.h"
#include "spaces/registry.h"

namespace hwnas::bench {
namespace {

constexpr int kArchs = 20000;
constexpr int kResolution = 224;

constexpr int kFitArchs = 64;

// The fake-device table (a temporary file, removed at exit), its predictor without and with a
// correction, and the archs.
struct Setup {
  const SearchSpace& space = get_space("efficientformer");
  std::string db = (std::filesystem::temp_directory_path() / "hwnas_bench_lut.db").string();
  std::unique_ptr<LutLatencyPredictor> pred;
  std::unique_ptr<LutLatencyPredictor> corrected;
  std::vector<Arch> archs;

  Setup() {
    std::filesystem::remove(db);
    {
      LatencyTable table(db, LatencyTable::Mode::read_write);
      FakeBackend fake;
      ProfileOptions o;
      o.device_name = "fake";
      profile_space(space, kResolution, table, fake, o);
    }
    pred = LutLatencyPredictor::open(db, "fake");
    Rng rng(0);
    for (int i = 0; i < kArchs; ++i) archs.push_back(space.sample(rng));
    // A drift that differs by kind and stage, so that every weight of the fit is non-zero.
    std::vector<LatencyFeatures> features;
    std::vector<double> measured;
    for (int i = 0; i < kFitArchs; ++i) {
      const LatencyFeatures f = pred->features(space.decode(archs[static_cast<std::size_t>(i)]));
      double drift = 0.3;
      for (std::size_t k = 0; k < kCorrectionKindSlots; ++k)
        for (std::size_t l = 0; l < kStageLevels; ++l)
          drift += 0.01 * static_cast<double>((k + 3 * l) % 7) * f.stage_ms[k][l];
      features.push_back(f);
      measured.push_back(f.plain_ms + drift);
    }
    corrected = LutLatencyPredictor::from_rows(
        LatencyTable(db, LatencyTable::Mode::read_only).rows("fake"), pred->overhead_ms(),
        LatencyCorrection::fit(features, measured), "lut:" + db + "#fake");
  }
  ~Setup() {
    pred.reset();
    corrected.reset();
    std::error_code ec;
    std::filesystem::remove(db, ec);
  }
};

Setup& setup() {
  static Setup s;
  return s;
}

void predict(benchmark::State& state) {
  Setup& s = setup();
  const LutLatencyPredictor& pred = state.range(0) ? *s.corrected : *s.pred;
  const int threads = static_cast<int>(state.range(1));
  std::vector<double> sink(static_cast<std::size_t>(threads));
  const auto once = [&] {
    std::vector<std::thread> pool;
    for (int k = 0; k < threads; ++k)
      pool.emplace_back([&, k] {
        double sum = 0;
        for (int i = k; i < kArchs; i += threads)
          sum += pred.predict_ms(s.space.decode(s.archs[static_cast<std::size_t>(i)]));
        sink[static_cast<std::size_t>(k)] += sum;
      });
    for (auto& th : pool) th.join();
  };
  warm_up(2, once);
  for (auto _ : state) {
    once();
    benchmark::DoNotOptimize(sink.data());
  }
  state.counters["predictions_per_s"] =
      benchmark::Counter(kArchs, benchmark::Counter::kIsIterationInvariantRate);
}

void register_benchmarks(Params& params) {
  timed(benchmark::RegisterBenchmark("lut_predict", predict),
        Timed{.repetitions = 5, .min_time_s = 0.3})
      ->ArgsProduct({params.ints("corrected", {0, 1}), params.ints("threads", {1, 2})})
      ->ArgNames({"corrected", "threads"});
  benchmark::AddCustomContext("space", "efficientformer");
  benchmark::AddCustomContext("resolution", std::to_string(kResolution));
  benchmark::AddCustomContext("table", "complete, fake device (profilers/fake_backend.h)");
  benchmark::AddCustomContext("archs_per_iteration", std::to_string(kArchs));
  benchmark::AddCustomContext("target_predictions_per_s", "200000 on 2 cores");
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  return hwnas::bench::run(argc, argv,
                           {"lut_predict",
                            "  --threads=LIST    predicting threads (default 1,2)\n"
                            "  --corrected=LIST  0: plain sum, 1: with a learned correction "
                            "(default 0,1)",
                            {},
                            hwnas::bench::register_benchmarks});
}
