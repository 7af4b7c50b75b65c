// hwnas_bench_gemm: sgemm throughput on the GEMM shapes of EfficientFormer-L1 (batch 1, 224x224)
// for the candidate GEMM backends of the engine: Eigen and OpenBLAS (alone, Eigen over OpenBLAS,
// OpenBLAS's own threads, or single-threaded tiles run by TBB) and oneDNN on weights packed once
// (evaluators/ops/packed_gemm.h, the engine's route). C (m x n) = A (m x k) * B (k x n),
// row-major: an NHWC 1x1 conv / Linear with the weight stored (in, out); 3x3 convs appear as
// their im2col GEMM (k = 9 * in).
//
// gemm/<m>x<k>x<n>/<backend>: one product per iteration (after 3 warm-up products), label = where
// L1 runs the shape, counter gflops (2 * m * k * n / time). After every run of a backend that
// threads OpenBLAS, a 120 ms pause lets OpenBLAS's spinning workers go idle. All (shape, backend)
// pairs are registered in one program, shape outer and backend inner, and their repetitions are
// interleaved at random (rounds of the old program), so the backends compared on a shape share the
// machine's conditions; bench/gemm_table.py turns the JSON into the side-by-side table (GFLOP/s per
// backend, best 1t / 2t). Every backend is checked against a double-precision reference before
// anything is timed.
//
// Parameters: --backend=NAME (repeated; default all), --shape=MxKxN (repeated; default all of L1).
#include <cblas.h>

#include "evaluators/ops/eigen.h"  // its own block: it must precede <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include "bench/bench_common.h"
#include "bench/gemm_backends.h"
#include "evaluators/ops/packed_gemm.h"
#include "evaluators/runtime/thread_scope.h"

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

// One shape's operands, and B packed once for oneDNN (the engine packs static weights at load).
struct Buffers {
  std::vector<float> a, b, c;
  std::unique_ptr<PackedWeights> packed;
};

struct Backend {
  std::string name;
  int threads;       // threads the backend uses in total
  int blas_threads;  // OpenBLAS's own pool size while this backend runs
  int engine_scope;  // > 0: runs inside a ThreadScope of that many threads (the engine's pool)
  std::function<void(const GemmShape&, Buffers&)> run;
};

std::vector<GemmShape>& shapes() {
  static std::vector<GemmShape> s = l1_shapes();
  return s;
}

std::vector<Buffers>& buffers() {
  static std::vector<Buffers> bufs;
  return bufs;
}

const std::vector<Backend>& backends() {
  static tbb::task_arena arena2(2);
  static const std::vector<Backend> all = {
      {"eigen_1t", 1, 1, 0,
       [](const GemmShape& s, Buffers& m) {
         gemm_eigen(s, m.a.data(), m.b.data(), m.c.data(), 0, s.m, 0, s.n);
       }},
      {"eigen_blas_1t", 1, 1, 0,
       [](const GemmShape& s, Buffers& m) {
         gemm_eigen_blas(s, m.a.data(), m.b.data(), m.c.data());
       }},
      {"openblas_1t", 1, 1, 0,
       [](const GemmShape& s, Buffers& m) {
         gemm_openblas(s, m.a.data(), m.b.data(), m.c.data(), 0, s.m, 0, s.n);
       }},
      {"eigen_tbb_2t", 2, 1, 0,
       [](const GemmShape& s, Buffers& m) {
         gemm_tbb(arena2, gemm_eigen, s, m.a.data(), m.b.data(), m.c.data());
       }},
      {"openblas1_tbb_2t", 2, 1, 0,
       [](const GemmShape& s, Buffers& m) {
         gemm_tbb(arena2, gemm_openblas, s, m.a.data(), m.b.data(), m.c.data());
       }},
      {"eigen_blas_2t", 2, 2, 0,
       [](const GemmShape& s, Buffers& m) {
         gemm_eigen_blas(s, m.a.data(), m.b.data(), m.c.data());
       }},
      {"openblas_2t", 2, 2, 0,
       [](const GemmShape& s, Buffers& m) {
         gemm_openblas(s, m.a.data(), m.b.data(), m.c.data(), 0, s.m, 0, s.n);
       }},
      // The engine's own route (evaluators/ops/packed_gemm.h): oneDNN matmul on B reordered once,
      // serial on the calling thread, and tiled over the engine's pool (ThreadScope) at 2 threads.
      {"onednn_packed_1t", 1, 1, 0,
       [](const GemmShape& s, Buffers& m) {
         gemm_packed_serial(s.m, m.a.data(), s.k, *m.packed, m.c.data(), s.n, GemmEpilogue{});
       }},
      {"onednn_packed_2t", 2, 1, 2,
       [](const GemmShape& s, Buffers& m) {
         gemm_packed(s.m, m.a.data(), s.k, *m.packed, m.c.data(), s.n, GemmEpilogue{});
       }},
  };
  return all;
}

double max_normalised_error(const std::vector<double>& ref, const std::vector<float>& c) {
  double err = 0, scale = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    err = std::max(err, std::abs(ref[i] - c[i]));
    scale = std::max(scale, std::abs(ref[i]));
  }
  return err / std::max(scale, 1e-30);
}

std::vector<double> reference(const GemmShape& s, const Buffers& buf) {
  std::vector<double> out(static_cast<std::size_t>(s.m) * s.n, 0.0);
  for (int i = 0; i < s.m; ++i) {
    double* row = &out[static_cast<std::size_t>(i) * s.n];
    for (int p = 0; p < s.k; ++p) {
      const double av = buf.a[static_cast<std::size_t>(i) * s.k + p];
      const float* brow = &buf.b[static_cast<std::size_t>(p) * s.n];
      for (int j = 0; j < s.n; ++j) row[j] += av * brow[j];
    }
  }
  return out;
}

std::string shape_name(const GemmShape& s) {
  return std::to_string(s.m) + "x" + std::to_string(s.k) + "x" + std::to_string(s.n);
}

void gemm(benchmark::State& state, std::size_t shape, std::size_t backend) {
  const GemmShape& s = shapes()[shape];
  Buffers& buf = buffers()[shape];
  const Backend& be = backends()[backend];
  openblas_set_num_threads(be.blas_threads);
  std::optional<ThreadScope> scope;
  if (be.engine_scope > 0) scope.emplace(be.engine_scope);
  const auto once = [&] { be.run(s, buf); };
  warm_up(3, once);
  for (auto _ : state) {
    once();
    benchmark::ClobberMemory();
  }
  state.SetLabel(s.what);
  state.counters["gflops"] =
      benchmark::Counter(2e-9 * s.m * s.k * s.n, benchmark::Counter::kIsIterationInvariantRate);
}

// OpenBLAS's idle workers spin for a while (about 2^28 cycles) after a threaded call; let them go
// to sleep before the next benchmark is timed.
void settle(const benchmark::State&) {
  if (openblas_get_num_threads() > 1) std::this_thread::sleep_for(std::chrono::milliseconds(120));
  openblas_set_num_threads(1);
}

void register_benchmarks(Params& params) {
  std::vector<std::string> all_backends, all_shapes;
  for (const auto& be : backends()) all_backends.push_back(be.name);
  for (const auto& s : shapes()) all_shapes.push_back(shape_name(s));
  const auto chosen_backends = params.strings("backend", all_backends);
  const auto chosen_shapes = params.strings("shape", all_shapes);
  for (const auto& name : chosen_backends)
    if (std::find(all_backends.begin(), all_backends.end(), name) == all_backends.end())
      throw std::invalid_argument("--backend: unknown '" + name +
                                  "' (known: " + join(all_backends, ", ") + ")");
  for (const auto& name : chosen_shapes)
    if (std::find(all_shapes.begin(), all_shapes.end(), name) == all_shapes.end())
      throw std::invalid_argument("--shape: unknown '" + name +
                                  "' (known: " + join(all_shapes, ", ") + ")");

  std::mt19937_64 rng(20261123);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  auto& bufs = buffers();
  bufs.resize(shapes().size());
  for (std::size_t i = 0; i < shapes().size(); ++i) {
    const auto& s = shapes()[i];
    bufs[i].a.resize(static_cast<std::size_t>(s.m) * s.k);
    bufs[i].b.resize(static_cast<std::size_t>(s.k) * s.n);
    bufs[i].c.resize(static_cast<std::size_t>(s.m) * s.n);
    for (float& x : bufs[i].a) x = dist(rng);
    for (float& x : bufs[i].b) x = dist(rng);
    bufs[i].packed = std::make_unique<PackedWeights>(bufs[i].b.data(), s.k, s.n, s.n);
  }

  // Correctness first: a fast wrong kernel is worthless.
  for (std::size_t i = 0; i < shapes().size(); ++i) {
    if (std::find(chosen_shapes.begin(), chosen_shapes.end(), all_shapes[i]) == chosen_shapes.end())
      continue;
    const auto& s = shapes()[i];
    const std::vector<double> ref = reference(s, bufs[i]);
    for (const auto& be : backends()) {
      openblas_set_num_threads(be.blas_threads);
      std::optional<ThreadScope> scope;
      if (be.engine_scope > 0) scope.emplace(be.engine_scope);
      std::fill(bufs[i].c.begin(), bufs[i].c.end(), std::nanf(""));
      be.run(s, bufs[i]);
      const double e = max_normalised_error(ref, bufs[i].c);
      if (!(e < 1e-5))
        throw std::runtime_error("backend " + be.name + " wrong on " + shape_name(s) +
                                 ": normalised error " + std::to_string(e));
    }
  }
  openblas_set_num_threads(1);

  // Shape outer, backend inner: with interleaving off, the backends compared on one shape run
  // one after another.
  for (std::size_t i = 0; i < shapes().size(); ++i) {
    if (std::find(chosen_shapes.begin(), chosen_shapes.end(), all_shapes[i]) == chosen_shapes.end())
      continue;
    for (std::size_t bi = 0; bi < backends().size(); ++bi) {
      if (std::find(chosen_backends.begin(), chosen_backends.end(), all_backends[bi]) ==
          chosen_backends.end())
        continue;
      const std::string name = "gemm/" + all_shapes[i] + "/" + all_backends[bi];
      timed(benchmark::RegisterBenchmark(name.c_str(), gemm, i, bi),
            Timed{.repetitions = 5, .min_time_s = 0.05})
          ->Teardown(settle);
    }
  }
  benchmark::AddCustomContext("model", "efficientformer l1, batch 1, 224x224");
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  benchmark::AddCustomContext("eigen_version", std::to_string(EIGEN_WORLD_VERSION) + "." +
                                                   std::to_string(EIGEN_MAJOR_VERSION) + "." +
                                                   std::to_string(EIGEN_MINOR_VERSION));
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  return hwnas::bench::run(
      argc, argv,
      {"gemm",
       "  --backend=NAME  a backend (repeated; default all: eigen_1t, eigen_blas_1t, openblas_1t,\n"
       "                  eigen_tbb_2t, openblas1_tbb_2t, eigen_blas_2t, openblas_2t,\n"
       "                  onednn_packed_1t, onednn_packed_2t)\n"
       "  --shape=MxKxN   a GEMM shape of L1 (repeated; default all 18)",
       {"--benchmark_enable_random_interleaving=true"},
       hwnas::bench::register_benchmarks});
}
