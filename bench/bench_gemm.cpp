// hwnas_bench_gemm: sgemm throughput on the GEMM shapes of EfficientFormer-L1 (batch 1, 224x224)
// for the candidate GEMM backends of the engine, so that the engine can route each shape to the
// fastest one. C (m x n) = A (m x k) * B (k x n), row-major: an NHWC 1x1 conv / Linear with the
// weight stored (in, out); 3x3 convs appear as their im2col GEMM (k = 9 * in).
//
// Usage: hwnas_bench_gemm [--rounds R] [--min-time-ms T] [--json]
// Each (backend, shape) cell is timed with hwnas::time_calls in every round; rounds interleave the
// backends so that machine noise spreads over all of them; the cell reports the median of the
// per-round medians. Results are checked against a double-precision reference first.
#include <cblas.h>

#include "evaluators/ops/eigen.h"  // its own block: it must precede <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include "bench/gemm_backends.h"
#include "evaluators/timing.h"

namespace hwnas::bench {
namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Map = Eigen::Map<const RowMajor, 0, Eigen::OuterStride<>>;
using MapOut = Eigen::Map<RowMajor, 0, Eigen::OuterStride<>>;

std::vector<GemmShape> l1_shapes() {
  // MB4D MLPs: (C -> 4C) and (4C -> C) at each stage's H*W.
  std::vector<GemmShape> s = {
      {3136, 48, 192, "s1 mlp fc1"},
      {3136, 192, 48, "s1 mlp fc2"},
      {784, 96, 384, "s2 mlp fc1"},
      {784, 384, 96, "s2 mlp fc2"},
      {196, 224, 896, "s3 mlp fc1"},
      {196, 896, 224, "s3 mlp fc2"},
      // Stage 4's MB4D MLP and MB3D MLP share these shapes.
      {49, 448, 1792, "s4 mlp fc1, mb3d fc1"},
      {49, 1792, 448, "s4 mlp fc2, mb3d fc2"},
      // MB3D on 49 tokens: qkv, attention output projection.
      {49, 448, 1536, "mb3d qkv"},
      {49, 1024, 448, "mb3d proj"},
      // Per head (8 heads): q k^T and attn v.
      {49, 32, 49, "mb3d q@k^T /head"},
      {49, 49, 128, "mb3d attn@v /head"},
      // 3x3 stride-2 convs as im2col GEMMs: m = output pixels, k = 9 * in, n = out.
      {12544, 27, 24, "stem conv1 3x3"},
      {3136, 216, 48, "stem conv2 3x3"},
      {784, 432, 96, "down1 3x3"},
      {196, 864, 224, "down2 3x3"},
      {49, 2016, 448, "down3 3x3"},
      // Classifier heads (class and distillation), one token.
      {1, 448, 1000, "head linear"},
  };
  return s;
}

void gemm_eigen(const GemmShape& s, const float* a, const float* b, float* c, int row0, int rows,
                int col0, int cols) {
  Map ma(a + static_cast<std::ptrdiff_t>(row0) * s.k, rows, s.k, Eigen::OuterStride<>(s.k));
  Map mb(b + col0, s.k, cols, Eigen::OuterStride<>(s.n));
  MapOut mc(c + static_cast<std::ptrdiff_t>(row0) * s.n + col0, rows, cols,
            Eigen::OuterStride<>(s.n));
  mc.noalias() = ma * mb;
}

void gemm_openblas(const GemmShape& s, const float* a, const float* b, float* c, int row0, int rows,
                   int col0, int cols) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, cols, s.k, 1.0f,
              a + static_cast<std::ptrdiff_t>(row0) * s.k, s.k, b + col0, s.n, 0.0f,
              c + static_cast<std::ptrdiff_t>(row0) * s.n + col0, s.n);
}

using Tile = void (*)(const GemmShape&, const float*, const float*, float*, int, int, int, int);

// The engine runs under TBB, so its 2-thread GEMM is a single-threaded kernel per tile. Rows are
// split when there are enough of them (each thread reuses all of B), else columns.
void gemm_tbb(tbb::task_arena& arena, Tile tile, const GemmShape& s, const float* a, const float* b,
              float* c) {
  const int parts = arena.max_concurrency();
  const bool by_rows = s.m >= 64 * parts;
  const int extent = by_rows ? s.m : s.n;
  // One tile per thread, pinned by static_partitioner: with only `parts` items the default
  // partitioner lets the calling thread run them all before a sleeping worker steals one.
  arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<int>(0, parts, 1),
        [&](const tbb::blocked_range<int>& range) {
          for (int p = range.begin(); p < range.end(); ++p) {
            const int lo = static_cast<int>(static_cast<long>(extent) * p / parts);
            const int hi = static_cast<int>(static_cast<long>(extent) * (p + 1) / parts);
            if (hi <= lo) continue;
            if (by_rows)
              tile(s, a, b, c, lo, hi - lo, 0, s.n);
            else
              tile(s, a, b, c, 0, s.m, lo, hi - lo);
          }
        },
        tbb::static_partitioner());
  });
}

struct Backend {
  std::string name;
  int threads;       // threads the backend uses in total
  int blas_threads;  // OpenBLAS's own pool size while this backend runs
  std::function<void(const GemmShape&, const float*, const float*, float*)> run;
};

struct Buffers {
  std::vector<float> a, b, c;
};

double max_normalised_error(const GemmShape& s, const Buffers& buf) {
  double err = 0, scale = 0;
  std::vector<double> row(static_cast<std::size_t>(s.n));
  for (int i = 0; i < s.m; ++i) {
    std::fill(row.begin(), row.end(), 0.0);
    for (int p = 0; p < s.k; ++p) {
      const double av = buf.a[static_cast<std::size_t>(i) * s.k + p];
      const float* brow = &buf.b[static_cast<std::size_t>(p) * s.n];
      for (int j = 0; j < s.n; ++j) row[j] += av * brow[j];
    }
    for (int j = 0; j < s.n; ++j) {
      err = std::max(err, std::abs(row[j] - buf.c[static_cast<std::size_t>(i) * s.n + j]));
      scale = std::max(scale, std::abs(row[j]));
    }
  }
  return err / std::max(scale, 1e-30);
}

int run(int argc, char** argv) {
  int rounds = 5;
  double min_time_ms = 25;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (arg == "--min-time-ms" && i + 1 < argc) {
      min_time_ms = std::atof(argv[++i]);
    } else if (arg == "--json") {
      json = true;
    } else {
      std::fprintf(stderr,
                   "usage: hwnas_bench_gemm [--rounds R] [--min-time-ms T] [--json]\n"
                   "  sgemm GFLOP/s on EfficientFormer-L1's GEMM shapes per backend\n");
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  if (rounds < 1 || min_time_ms < 0) {
    std::fprintf(stderr, "error: --rounds must be >= 1 and --min-time-ms >= 0\n");
    return 2;
  }

  tbb::task_arena arena2(2);
  const std::vector<Backend> backends = {
      {"eigen", 1, 1,
       [](const GemmShape& s, const float* a, const float* b, float* c) {
         gemm_eigen(s, a, b, c, 0, s.m, 0, s.n);
       }},
      {"eigen+blas", 1, 1, gemm_eigen_blas},
      {"openblas", 1, 1,
       [](const GemmShape& s, const float* a, const float* b, float* c) {
         gemm_openblas(s, a, b, c, 0, s.m, 0, s.n);
       }},
      {"eigen tbb", 2, 1,
       [&](const GemmShape& s, const float* a, const float* b, float* c) {
         gemm_tbb(arena2, gemm_eigen, s, a, b, c);
       }},
      {"openblas(1) tbb", 2, 1,
       [&](const GemmShape& s, const float* a, const float* b, float* c) {
         gemm_tbb(arena2, gemm_openblas, s, a, b, c);
       }},
      {"eigen+blas", 2, 2, gemm_eigen_blas},
      {"openblas", 2, 2,
       [](const GemmShape& s, const float* a, const float* b, float* c) {
         gemm_openblas(s, a, b, c, 0, s.m, 0, s.n);
       }},
  };

  const std::vector<GemmShape> shapes = l1_shapes();
  std::mt19937_64 rng(20261123);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<Buffers> bufs(shapes.size());
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const auto& s = shapes[i];
    bufs[i].a.resize(static_cast<std::size_t>(s.m) * s.k);
    bufs[i].b.resize(static_cast<std::size_t>(s.k) * s.n);
    bufs[i].c.resize(static_cast<std::size_t>(s.m) * s.n);
    for (float& x : bufs[i].a) x = dist(rng);
    for (float& x : bufs[i].b) x = dist(rng);
  }

  // Correctness first: a fast wrong kernel is worthless.
  for (const auto& be : backends) {
    openblas_set_num_threads(be.blas_threads);
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      std::fill(bufs[i].c.begin(), bufs[i].c.end(), std::nanf(""));
      be.run(shapes[i], bufs[i].a.data(), bufs[i].b.data(), bufs[i].c.data());
      const double e = max_normalised_error(shapes[i], bufs[i]);
      if (!(e < 1e-5)) {
        std::fprintf(stderr, "error: backend %s/%dt wrong on %dx%dx%d: normalised error %g\n",
                     be.name.c_str(), be.threads, shapes[i].m, shapes[i].k, shapes[i].n, e);
        return 1;
      }
    }
  }

  TimingConfig cfg;
  cfg.warmup = 3;
  cfg.min_repeats = 10;
  cfg.min_time_ms = min_time_ms;
  // medians[backend][shape][round]
  std::vector<std::vector<std::vector<double>>> medians(
      backends.size(), std::vector<std::vector<double>>(shapes.size()));
  // Shape outer, backend inner: the backends compared on one shape are timed close together, so
  // load from other processes hits them alike; rounds repeat the whole sweep.
  for (int r = 0; r < rounds; ++r) {
    std::fprintf(stderr, "round %d/%d\n", r + 1, rounds);
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      auto& buf = bufs[i];
      for (std::size_t bi = 0; bi < backends.size(); ++bi) {
        const auto& be = backends[bi];
        openblas_set_num_threads(be.blas_threads);
        const auto st =
            time_calls([&] { be.run(shapes[i], buf.a.data(), buf.b.data(), buf.c.data()); }, cfg);
        medians[bi][i].push_back(st.median_ms);
        // OpenBLAS's idle workers spin for a while (about 2^28 cycles) after a threaded call;
        // let them go to sleep before the next backend is timed.
        if (be.blas_threads > 1) std::this_thread::sleep_for(std::chrono::milliseconds(120));
      }
    }
  }
  openblas_set_num_threads(1);

  auto gflops = [&](std::size_t bi, std::size_t i) {
    auto v = medians[bi][i];
    std::sort(v.begin(), v.end());
    const double ms = v[v.size() / 2];
    const auto& s = shapes[i];
    return 2.0 * s.m * s.k * s.n / (ms * 1e6);
  };

  if (json) {
    std::printf("[\n");
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      const auto& s = shapes[i];
      std::printf("  {\"m\": %d, \"k\": %d, \"n\": %d, \"what\": \"%s\", \"gflops\": {", s.m, s.k,
                  s.n, s.what.c_str());
      for (std::size_t bi = 0; bi < backends.size(); ++bi)
        std::printf("%s\"%s/%dt\": %.2f", bi ? ", " : "", backends[bi].name.c_str(),
                    backends[bi].threads, gflops(bi, i));
      std::printf("}}%s\n", i + 1 < shapes.size() ? "," : "");
    }
    std::printf("]\n");
    return 0;
  }
  std::printf("GFLOP/s (2*m*k*n / median time; median of %d rounds)\n\n| m | k | n | where |",
              rounds);
  for (const auto& be : backends) std::printf(" %s %dt |", be.name.c_str(), be.threads);
  std::printf(" best 1t | best 2t |\n|---|---|---|---|");
  for (std::size_t bi = 0; bi < backends.size(); ++bi) std::printf("---|");
  std::printf("---|---|\n");
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const auto& s = shapes[i];
    std::printf("| %d | %d | %d | %s |", s.m, s.k, s.n, s.what.c_str());
    std::size_t best[3] = {0, 0, 0};
    double best_v[3] = {0, 0, 0};
    for (std::size_t bi = 0; bi < backends.size(); ++bi) {
      const double g = gflops(bi, i);
      std::printf(" %.1f |", g);
      const int t = backends[bi].threads;
      if (g > best_v[t]) best_v[t] = g, best[t] = bi;
    }
    std::printf(" %s | %s |\n", backends[best[1]].name.c_str(), backends[best[2]].name.c_str());
  }
  return 0;
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  try {
    return hwnas::bench::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
