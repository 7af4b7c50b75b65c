// What int8 attention matmuls would gain, measured before building them (issue 19: "the
// attention matmuls where that pays"). The attention core of turbovit-ref's blocks at 224 (mask
// unit attention in stages 1-2, global attention in stages 3-4), given Q, K and V already
// gathered per (window, head) as window_attention gathers them:
//  - fp32: S = Q K^T, softmax_rows(S), O = S V, two Eigen GEMMs per (window, head), as the
//    engine's window_attention runs them;
//  - int8: Q, K, V quantized to s8 with a dynamic symmetric scale per (window, head) (no
//    calibration), S = Q K^T on oneDNN's batched s8 matmul (s32), dequantized into the same
//    softmax, P quantized to u8, O = P V (u8 x s8 -> s32), dequantized. P's step is 1/255
//    (`int8`) or its row's maximum / 255 (`int8_row_p`: a softmax row over 196 keys holds values
//    near 1/196, 1.3 of the fixed steps).
// attention_core/<stage>/<variant>: one pass over every (window, head) of one block; counters
// `blocks` (how many such blocks turbovit-ref has: time x blocks is its per-image cost) and, for
// the int8 variants, `rel_err` (the RMS of O_int8 - O_fp32 over the RMS of O_fp32, on N(0, 1)
// inputs). One engine thread (oneDNN's OpenMP at 1); repetitions interleaved at random.
//
// Parameters: none.
#include "evaluators/ops/eigen.h"  // its own block: it must precede <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <omp.h>

#include "bench/bench_common.h"
#include "evaluators/ops/dnnl_context.h"
#include "evaluators/ops/softmax.h"

namespace hwnas::bench {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Map = Eigen::Map<RowMat>;
using dnnl::memory;

// turbovit-ref (spaces' turbovit.json: widths 48/96/192/384, head dims 16/32/64/64, depths
// 1/2/12/3, 8x8 mask units halving at each Q-pool) at 224: 56x56, 28x28, 14x14 and 7x7 tokens.
// Stage 3's first block still uses 2x2 mask units (Hiera's lag) and the Q-pooling blocks attend
// with fewer queries; both are small and left out.
struct Stage {
  const char* name;
  int batch, queries, keys, dim, blocks;  // batch: windows x heads
};
const Stage kStages[] = {{"s1_mask_unit_8x8_d16", 49 * 3, 64, 64, 16, 1},
                         {"s2_mask_unit_4x4_d32", 49 * 3, 16, 16, 32, 1},
                         {"s3_global_14x14_d64", 3, 196, 196, 64, 11},
                         {"s4_global_7x7_d64", 6, 49, 49, 64, 3}};

struct Problem {
  explicit Problem(const Stage& s)
      : b(s.batch),
        nq(s.queries),
        nk(s.keys),
        d(s.dim),
        q(b * nq * d),
        k(b * nk * d),
        v(b * nk * d),
        o(b * nq * d),
        scores(b * nq * nk) {
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0, 1);
    for (auto* x : {&q, &k, &v})
      for (float& e : *x) e = normal(rng);
    // Queries enter the product already scaled by 1 / sqrt(d), as in window_attention.
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    for (float& e : q) e *= scale;
  }
  long b, nq, nk, d;
  std::vector<float> q, k, v, o, scores;
};

void fp32_core(Problem& p) {
  for (long i = 0; i < p.b; ++i) {
    Map q(p.q.data() + i * p.nq * p.d, p.nq, p.d), k(p.k.data() + i * p.nk * p.d, p.nk, p.d),
        v(p.v.data() + i * p.nk * p.d, p.nk, p.d), s(p.scores.data() + i * p.nq * p.nk, p.nq, p.nk),
        o(p.o.data() + i * p.nq * p.d, p.nq, p.d);
    s.noalias() = q * k.transpose();
    softmax_rows(s.data(), static_cast<int>(p.nq), static_cast<int>(p.nk), static_cast<int>(p.nk));
    o.noalias() = s * v;
  }
}

// Symmetric s8 of each of `groups` runs of `per` values: scale = absmax / 127.
void quantize_s8(const std::vector<float>& x, long groups, long per, std::int8_t* out,
                 float* scales) {
  for (long g = 0; g < groups; ++g) {
    const float* src = x.data() + g * per;
    float absmax = 0;
    for (long i = 0; i < per; ++i) absmax = std::max(absmax, std::fabs(src[i]));
    const float scale = absmax > 0 ? absmax / 127 : 1, inv = 1 / scale;
    scales[g] = scale;
    for (long i = 0; i < per; ++i)
      out[g * per + i] = static_cast<std::int8_t>(std::nearbyint(src[i] * inv));
  }
}

class Int8Core {
 public:
  Int8Core(Problem& p, bool row_scaled_p)
      : row_scaled_p_(row_scaled_p),
        p_(p),
        ps_(p.scores.size() / p.nk),
        q8_(p.q.size()),
        k8_(p.k.size()),
        v8_(p.v.size()),
        p8_(p.scores.size()),
        s32_(p.scores.size()),
        o32_(p.o.size()),
        qs_(p.b),
        ks_(p.b),
        vs_(p.b) {
    const memory::dims bq{p.b, p.nq, p.d}, bkt{p.b, p.d, p.nk}, bs{p.b, p.nq, p.nk},
        bv{p.b, p.nk, p.d};
    using dt = memory::data_type;
    using tag = memory::format_tag;
    const memory::desc qd(bq, dt::s8, tag::abc), kd(bkt, dt::s8, tag::acb),  // K^T, K row-major
        sd(bs, dt::s32, tag::abc), pd(bs, dt::u8, tag::abc), vd(bv, dt::s8, tag::abc),
        od(bq, dt::s32, tag::abc);
    const dnnl::engine& eng = dnnl_cpu_engine();
    qk_ = dnnl::matmul({dnnl::matmul::desc(qd, kd, sd), eng});
    pv_ = dnnl::matmul({dnnl::matmul::desc(pd, vd, od), eng});
    qm_ = memory(qd, eng, q8_.data());
    km_ = memory(kd, eng, k8_.data());
    sm_ = memory(sd, eng, s32_.data());
    pm_ = memory(pd, eng, p8_.data());
    vm_ = memory(vd, eng, v8_.data());
    om_ = memory(od, eng, o32_.data());
  }

  void run() {
    const long qsz = p_.nq * p_.d, ksz = p_.nk * p_.d, ssz = p_.nq * p_.nk;
    quantize_s8(p_.q, p_.b, qsz, q8_.data(), qs_.data());
    quantize_s8(p_.k, p_.b, ksz, k8_.data(), ks_.data());
    quantize_s8(p_.v, p_.b, ksz, v8_.data(), vs_.data());
    qk_.execute(dnnl_thread_stream(),
                {{DNNL_ARG_SRC, qm_}, {DNNL_ARG_WEIGHTS, km_}, {DNNL_ARG_DST, sm_}});
    dnnl_thread_stream().wait();
    for (long i = 0; i < p_.b; ++i) {
      float* s = p_.scores.data() + i * ssz;
      const std::int32_t* acc = s32_.data() + i * ssz;
      const float f = qs_[i] * ks_[i];
      for (long j = 0; j < ssz; ++j) s[j] = f * static_cast<float>(acc[j]);
      softmax_rows(s, static_cast<int>(p_.nq), static_cast<int>(p_.nk), static_cast<int>(p_.nk));
      for (long r = 0; r < p_.nq; ++r) {
        const float* row = s + r * p_.nk;
        float top = 1;
        if (row_scaled_p_) top = *std::max_element(row, row + p_.nk);
        ps_[i * p_.nq + r] = top / 255;
        const float inv = 255 / top;
        std::uint8_t* pq = p8_.data() + i * ssz + r * p_.nk;
        for (long j = 0; j < p_.nk; ++j)
          pq[j] = static_cast<std::uint8_t>(std::nearbyint(row[j] * inv));
      }
    }
    pv_.execute(dnnl_thread_stream(),
                {{DNNL_ARG_SRC, pm_}, {DNNL_ARG_WEIGHTS, vm_}, {DNNL_ARG_DST, om_}});
    dnnl_thread_stream().wait();
    for (long i = 0; i < p_.b; ++i)
      for (long r = 0; r < p_.nq; ++r) {
        const float f = vs_[i] * ps_[i * p_.nq + r];
        const long at = i * qsz + r * p_.d;
        for (long j = 0; j < p_.d; ++j) p_.o[at + j] = f * static_cast<float>(o32_[at + j]);
      }
  }

 private:
  bool row_scaled_p_;
  Problem& p_;
  std::vector<float> ps_;  // P's step per (window and head, query row)
  std::vector<std::int8_t> q8_, k8_, v8_;
  std::vector<std::uint8_t> p8_;
  std::vector<std::int32_t> s32_, o32_;
  std::vector<float> qs_, ks_, vs_;
  dnnl::matmul qk_, pv_;
  memory qm_, km_, sm_, pm_, vm_, om_;
};

enum class Variant { fp32, int8, int8_row_p };

void attention_core(benchmark::State& state, const Stage& stage, Variant variant) {
  omp_set_num_threads(1);
  Problem p(stage);
  const bool int8 = variant != Variant::fp32;
  Int8Core core(p, variant == Variant::int8_row_p);
  if (int8) {
    fp32_core(p);
    const std::vector<float> reference = p.o;
    core.run();
    double diff = 0, norm = 0;
    for (std::size_t i = 0; i < reference.size(); ++i) {
      const double e = p.o[i] - reference[i];
      diff += e * e;
      norm += static_cast<double>(reference[i]) * reference[i];
    }
    state.counters["rel_err"] = std::sqrt(diff / norm);
  }
  const auto once = [&] { int8 ? core.run() : fp32_core(p); };
  warm_up(5, once);
  for (auto _ : state) {
    once();
    benchmark::DoNotOptimize(p.o.data());
  }
  state.counters["blocks"] = stage.blocks;
}

void register_benchmarks(Params&) {
  for (const Stage& s : kStages)
    for (const auto& [variant, label] :
         {std::pair{Variant::fp32, "fp32"}, std::pair{Variant::int8, "int8"},
          std::pair{Variant::int8_row_p, "int8_row_p"}}) {
      const std::string name = std::string("attention_core/") + s.name + "/" + label;
      timed(benchmark::RegisterBenchmark(name.c_str(), attention_core, s, variant),
            Timed{.repetitions = 5, .min_time_s = 0.5});
    }
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  return hwnas::bench::run(argc, argv,
                           {"int8_attention",
                            "  (no parameters of its own)",
                            {"--benchmark_enable_random_interleaving=true"},
                            hwnas::bench::register_benchmarks});
}
