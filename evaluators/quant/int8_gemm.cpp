#include "evaluators/quant/int8_gemm.h"

#include <algorithm>
#include <cstring>
#include <shared_mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include <omp.h>

#include "core/error.h"
#include "evaluators/engine/tensor.h"
#include "evaluators/ops/dnnl_context.h"
#include "evaluators/quant/int8_gemm_pairs.h"

namespace hwnas {

namespace {

using dnnl::memory;

std::mutex implementation_mutex;
std::string implementation_seen;
constexpr const char* kPairsImplementation = "hwnas:avx2_u8s8_s16_pairs";

}  // namespace

bool int8_on_onednn() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_amx:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx2_vnni:
      return true;
    default:
      return false;
  }
}

bool int8_supported() { return int8_on_onednn() || int8_pairs_available(); }

const char* int8_kernels() {
  return int8_on_onednn() ? "oneDNN" : int8_pairs_available() ? "hwnas-avx2" : "none";
}

void require_int8_cpu() {
  if (!int8_supported())
    throw Error(std::string("int8 needs a CPU with AVX2, VNNI or AMX; oneDNN dispatches to ") +
                dnnl_isa_name() + " here and this build has no AVX2; use --precision fp32");
}

namespace {

struct Entry {
  dnnl::matmul primitive;
  memory::desc src, dst, bias, scratch;
};

// The attributes of an int8 product: the columns' dequantization scales (constants: oneDNN 2.6
// runs runtime scales only on its slow gemm:jit path, not on brgemm with VNNI / AMX), then bias'
// and the activation as post-ops.
dnnl::primitive_attr int8_attr(const float* scales, int n, Activation act, memory::desc& bias) {
  dnnl::primitive_attr attr;
  attr.set_output_scales(1 << 1, std::vector<float>(scales, scales + n));
  dnnl::post_ops ops;
  bias = memory::desc({1, n}, memory::data_type::f32, memory::format_tag::ab);
  ops.append_binary(dnnl::algorithm::binary_add, bias);
  append_activation(ops, act);
  attr.set_post_ops(ops);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// Per-thread operand, staging and scratchpad buffers, 64-byte aligned (oneDNN's preference for
// user memory), grown on demand.
float* grow(AlignedBuffer& buffer, std::size_t floats) {
  if (buffer.size() < floats) buffer = AlignedBuffer(floats);
  return buffer.data();
}

}  // namespace

// One column range's s8 weights in oneDNN's layout and its primitives, one per row count and
// activation (creation JIT-compiles, so each is made once).
struct Int8Gemm::Range {
  int k = 0, n = 0;
  const float* scales = nullptr;  // the range's dequantization scales
  memory::desc desc;
  AlignedBuffer data;  // s8 in oneDNN's blocked layout (with its padding), 64-byte aligned
  memory mem;
  PairPackedWeights pairs;  // instead of desc / data / mem where oneDNN's int8 saturates
  std::shared_mutex mutex;
  std::map<std::pair<int, Activation>, std::shared_ptr<const Entry>> primitives;

  std::shared_ptr<const Entry> primitive(int m, Activation act) {
    {
      std::shared_lock lock(mutex);
      const auto it = primitives.find({m, act});
      if (it != primitives.end()) return it->second;
    }
    auto e = std::make_shared<Entry>();
    e->src = memory::desc({m, k}, memory::data_type::u8, memory::format_tag::ab);
    e->dst = memory::desc({m, n}, memory::data_type::f32, memory::format_tag::ab);
    const dnnl::primitive_attr attr = int8_attr(scales, n, act, e->bias);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(e->src, desc, e->dst), attr,
                                          dnnl_cpu_engine());
    e->scratch = pd.scratchpad_desc();
    e->primitive = dnnl::matmul(pd);
    {
      std::lock_guard lock(implementation_mutex);
      implementation_seen = pd.impl_info_str();
    }
    std::unique_lock lock(mutex);
    return primitives.try_emplace({m, act}, std::move(e)).first->second;
  }
};

std::string Int8Gemm::last_implementation() {
  std::lock_guard lock(implementation_mutex);
  return implementation_seen;
}

Int8Gemm::Int8Gemm(const PackedWeights& fp32, ActivationQuant act, Granularity weights)
    : act_(std::move(act)) {
  require_int8_cpu();
  onednn_ = int8_on_onednn();
  if (!onednn_) {
    std::lock_guard lock(implementation_mutex);
    implementation_seen = kPairsImplementation;
  }
  const int k = fp32.k();
  columns_ = expand_columns(act_, k);
  weights_ = quantize_weights(fp32.unpack(), k, fp32.n(), act_, weights);
  panel_ = fp32.panel_width();
}

Int8Gemm::Range& Int8Gemm::range(int j0, int n) {
  std::lock_guard lock(mutex_);
  auto& slot = ranges_[{j0, n}];
  if (slot) return *slot;
  auto r = std::make_shared<Range>();
  const int k = weights_.k;
  r->k = k;
  r->n = n;
  r->scales = weights_.scale.data() + j0;
  if (!onednn_) {
    r->pairs = pack_weight_pairs(weights_, j0, n);
    slot = std::move(r);
    return *slot;
  }
  try {
    omp_set_num_threads(1);
    // The layout oneDNN prefers for the weights, asked with a representative row count (as
    // PackedWeights does for fp32).
    memory::desc bias;
    const memory::desc src({64, k}, memory::data_type::u8, memory::format_tag::ab);
    const memory::desc any({k, n}, memory::data_type::s8, memory::format_tag::any);
    const memory::desc dst({64, n}, memory::data_type::f32, memory::format_tag::ab);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, any, dst),
                                          int8_attr(r->scales, n, Activation::none, bias),
                                          dnnl_cpu_engine());
    r->desc = pd.weights_desc();
    r->data = AlignedBuffer((r->desc.get_size() + sizeof(float) - 1) / sizeof(float));
    std::memset(r->data.data(), 0, r->desc.get_size());
    memory user({{k, n}, memory::data_type::s8, memory::dims{weights_.n, 1}}, dnnl_cpu_engine(),
                const_cast<std::int8_t*>(weights_.q.data()) + j0);
    r->mem = memory(r->desc, dnnl_cpu_engine(), r->data.data());
    dnnl::reorder(user, r->mem).execute(dnnl_thread_stream(), user, r->mem);
    dnnl_thread_stream().wait();
  } catch (const dnnl::error& e) {
    rethrow_dnnl(e, "int8 weight reorder");
  }
  slot = std::move(r);
  return *slot;
}

bool Int8Gemm::run(int m, const float* a, int lda, const PackedWeights& b, float* c, int ldc,
                   const GemmEpilogue& ep, int p0, int p1) {
  const int k = weights_.k;
  const int j0 = p0 * panel_, n = std::min(b.n(), p1 * panel_) - j0;
  thread_local AlignedBuffer q_buffer, stage, bias, scratch;
  auto* const q = reinterpret_cast<std::uint8_t*>(
      grow(q_buffer, (static_cast<std::size_t>(m) * k + sizeof(float) - 1) / sizeof(float)));
  quantize_activations(columns_, m, a, lda, q);
  folded_bias(weights_, ep.bias, j0, n, grow(bias, static_cast<std::size_t>(n)));
  float* const c_out = c + j0;
  // oneDNN's dst descriptor is dense (ld n); the pair kernel takes any ldc.
  const bool direct = !ep.residual && (ldc == n || !onednn_);
  float* const out = direct ? c_out : grow(stage, static_cast<std::size_t>(m) * n);
  if (!onednn_) {
    gemm_u8s8_pairs(m, q, range(j0, n).pairs, weights_.scale.data() + j0, bias.data(), ep.act, out,
                    direct ? ldc : n);
  } else {
    omp_set_num_threads(1);  // see gemm_packed_serial: the calling TBB tile is the only thread
    try {
      Range& w = range(j0, n);
      const auto entry = w.primitive(m, ep.act);
      const dnnl::engine& eng = dnnl_cpu_engine();
      std::unordered_map<int, memory> args{
          {DNNL_ARG_SRC, memory(entry->src, eng, q)},
          {DNNL_ARG_WEIGHTS, w.mem},
          {DNNL_ARG_DST, memory(entry->dst, eng, out)},
          {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1,
           memory(entry->bias, eng, bias.data())},
          {DNNL_ARG_SCRATCHPAD,
           memory(entry->scratch, eng,
                  grow(scratch, entry->scratch.get_size() / sizeof(float) + 1))}};
      entry->primitive.execute(dnnl_thread_stream(), args);
    } catch (const dnnl::error& e) {
      rethrow_dnnl(e, "int8 matmul");
    }
  }
  if (!direct) {
    // The residual is added while the tile moves to C (it may be C itself: read before write).
    for (int i = 0; i < m; ++i) {
      const float* src = out + static_cast<long>(i) * n;
      float* dst = c_out + static_cast<long>(i) * ldc;
      const float* res = ep.residual ? ep.residual + j0 + static_cast<long>(i) * ep.ldr : nullptr;
      for (int j = 0; j < n; ++j) dst[j] = src[j] + (res ? res[j] : 0.0f);
    }
  }
  return true;
}

void gemm_int8_reference(int m, const float* a, int lda, const ActivationQuant& act,
                         const QuantizedWeights& w, float* c, int ldc, const GemmEpilogue& ep) {
  const int k = w.k, n = w.n;
  const ColumnQuant cols = expand_columns(act, k);
  std::vector<std::uint8_t> q(static_cast<std::size_t>(m) * k);
  quantize_activations(cols, m, a, lda, q.data());
  std::vector<float> bias(n);
  folded_bias(w, ep.bias, 0, n, bias.data());
  std::vector<float> row(n);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      std::int64_t acc = 0;
      for (int r = 0; r < k; ++r)
        acc += static_cast<std::int64_t>(q[static_cast<std::size_t>(i) * k + r]) *
               w.q[static_cast<std::size_t>(r) * n + j];
      row[j] = w.scale[j] * static_cast<float>(acc) + bias[j];
    }
    apply_activation_reference(ep.act, row.data(), static_cast<std::size_t>(n));
    for (int j = 0; j < n; ++j)
      c[static_cast<long>(i) * ldc + j] =
          row[j] + (ep.residual ? ep.residual[static_cast<long>(i) * ep.ldr + j] : 0.0f);
  }
}

}  // namespace hwnas
