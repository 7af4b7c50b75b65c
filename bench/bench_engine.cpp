// Engine benchmark: end-to-end latency of EfficientFormer L1/L3/L7 (batch 1, 224x224),
// GFLOP/s (2 * MACs / time) and time per block kind (each block timed in isolation with
// BlockRunner, summed over the network's blocks of that kind).
//
// Usage: hwnas_bench_engine [--threads T] [--models l1,l3,l7] [--blocks] [--gemm]
//   --blocks  also time every block of each model in isolation, grouped by kind
//   --gemm    compare GEMM backends on the engine's GEMM shapes: OpenBLAS and Eigen on the
//             plain B, packed = gemm_packed (oneDNN matmul on weights reordered at load)
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "evaluators/measure.h"
#include "evaluators/ops/gemm.h"
#include "evaluators/ops/packed_gemm.h"
#include "evaluators/tensor.h"
#include "evaluators/thread_scope.h"
#include "evaluators/timing.h"
#include "spaces/registry.h"

namespace {

using namespace hwnas;

void bench_gemm_shapes(int threads) {
  ThreadScope scope(threads);  // inner scopes of 1 thread override it for the serial columns
  // (m, n, k) of the engine's GEMMs for L1 at 224: MB4D fc1/fc2 per stage, stem/downsample
  // im2col, MB3D qkv/proj/fc1/fc2 (49 tokens), head.
  const int shapes[][3] = {{3136, 192, 48},  {3136, 48, 192},  {784, 384, 96},   {784, 96, 384},
                           {196, 896, 224},  {196, 224, 896},  {49, 1792, 448},  {49, 448, 1792},
                           {49, 1536, 448},  {49, 448, 1024},  {12544, 24, 27},  {3136, 48, 216},
                           {784, 96, 432},   {196, 224, 864},  {49, 448, 2016},  {1, 1000, 448},
                           {224, 192, 48},   {224, 48, 192}};
  TimingConfig cfg;
  cfg.warmup = 5;
  cfg.min_repeats = 20;
  cfg.min_time_ms = 100;
  std::printf("GEMM backends, GFLOP/s (median; C = A*B + bias). 1t = one call on one thread; "
              "par = the engine's tiling at %d thread(s)\n", threads);
  std::printf("%-16s %11s %9s %10s %11s %11s\n", "m x n x k", "openblas-1t", "eigen-1t", "packed-1t",
              "openblas-par", "packed-par");
  for (const auto& s : shapes) {
    const int m = s[0], n = s[1], k = s[2];
    Tensor a(1, 1, m, k), b(1, 1, k, n), c(1, 1, m, n);
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<float>(i % 7) * 0.1f;
    for (std::size_t i = 0; i < b.size(); ++i) b.data()[i] = static_cast<float>(i % 5) * 0.1f;
    std::vector<float> bias(static_cast<std::size_t>(n), 0.5f);
    const GemmEpilogue ep{bias.data(), Activation::none, nullptr, 0};
    const PackedWeights packed(b.data(), k, n, n);
    auto gflops = [&](const std::function<void()>& fn) {
      return 2.0 * m * n * k / (time_calls(fn, cfg).median_ms * 1e6);
    };
    double g[5];
    {
      ThreadScope one(1);
      set_gemm_backend(GemmBackend::openblas);
      g[0] = gflops([&] { gemm_serial(m, n, k, a.data(), k, b.data(), n, c.data(), n, ep); });
      set_gemm_backend(GemmBackend::eigen);
      g[1] = gflops([&] { gemm_serial(m, n, k, a.data(), k, b.data(), n, c.data(), n, ep); });
      g[2] = gflops([&] { gemm_packed_serial(m, a.data(), k, packed, c.data(), n, ep); });
    }
    set_gemm_backend(GemmBackend::openblas);
    g[3] = gflops([&] { gemm(m, n, k, a.data(), k, b.data(), n, c.data(), n, ep); });
    set_gemm_backend(GemmBackend::automatic);
    g[4] = gflops([&] { gemm_packed(m, a.data(), k, packed, c.data(), n, ep); });
    char name[40];
    std::snprintf(name, sizeof name, "%dx%dx%d", m, n, k);
    std::printf("%-16s %11.1f %9.1f %10.1f %11.1f %11.1f\n", name, g[0], g[1], g[2], g[3], g[4]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  bool blocks = false, gemm_only = false;
  std::vector<std::string> models = {"l1", "l3", "l7"};
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--blocks")) blocks = true;
    else if (!std::strcmp(argv[i], "--gemm")) gemm_only = true;
    else if (!std::strcmp(argv[i], "--models") && i + 1 < argc) {
      models.clear();
      std::stringstream ss(argv[++i]);
      std::string m;
      while (std::getline(ss, m, ',')) models.push_back(m);
    } else {
      std::fprintf(stderr, "usage: %s [--threads T] [--models l1,l3,l7] [--blocks] [--gemm]\n", argv[0]);
      return 2;
    }
  }
  try {
    if (gemm_only) {
      bench_gemm_shapes(threads);
      return 0;
    }
    const SearchSpace& space = get_space("efficientformer");
    MeasureOptions opt;
    opt.threads = threads;
    opt.timing.warmup = 10;
    opt.timing.min_repeats = 30;
    opt.timing.min_time_ms = 1000;
    std::printf("EfficientFormer, batch 1, 224x224, %d thread(s)\n", threads);
    std::printf("%-6s %10s %10s %10s %10s %8s %10s\n", "model", "median_ms", "p10_ms", "p90_ms",
                "min_ms", "repeats", "GFLOP/s");
    for (const auto& name : models) {
      const Network net = space.decode(space.resolve(name));
      const TimingStats st = measure_network(net, opt);
      std::printf("%-6s %10.2f %10.2f %10.2f %10.2f %8d %10.1f\n", name.c_str(), st.median_ms,
                  st.p10_ms, st.p90_ms, st.min_ms, st.repeats,
                  2.0 * static_cast<double>(net.macs()) / (st.median_ms * 1e6));
      std::fflush(stdout);
      if (!blocks) continue;
      std::map<std::string, std::pair<double, long long>> per_kind;  // ms, MACs
      MeasureOptions bopt = opt;
      bopt.timing.min_time_ms = 100;
      bopt.timing.min_repeats = 20;
      std::map<std::string, double> cache;
      for (const auto& b : net.blocks) {
        const std::string key = b.key();
        if (!cache.count(key)) cache[key] = measure_block(b, bopt).median_ms;
        auto& e = per_kind[std::string(block_kind_name(b.kind))];
        e.first += cache[key];
        e.second += block_cost(b).macs;
      }
      double total = 0;
      for (const auto& [k, v] : per_kind) total += v.first;
      std::printf("  per block kind (isolated, summed; total %.2f ms):\n", total);
      for (const auto& [k, v] : per_kind)
        std::printf("    %-11s %8.2f ms %6.1f%% %8.1f GFLOP/s\n", k.c_str(), v.first,
                    100.0 * v.first / total, v.second ? 2.0 * v.second / (v.first * 1e6) : 0.0);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
