#include "evaluators/ops/packed_gemm.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include <omp.h>

#include "core/error.h"
#include "evaluators/engine/tensor.h"
#include "evaluators/ops/dnnl_context.h"
#include "evaluators/ops/layer_log.h"
#include "evaluators/runtime/parallel.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {

namespace {

using dnnl::memory;
using Dims = memory::dims;

}  // namespace

struct PackedWeights::Impl {
  memory::desc full;      // the whole k x n matrix in oneDNN's layout
  AlignedBuffer data;     // its contents, zero padded
  long panel_stride = 0;  // floats from one panel to the next (0: not splittable)
  // Memory objects over panel ranges, made on first use: oneDNN zero-fills a blocked layout's
  // padding when such an object is created, which must not happen on every call (nor
  // concurrently, on weights that threads share).
  mutable std::mutex mutex;
  mutable std::map<std::pair<int, int>, std::pair<memory::desc, memory>> ranges;
  mutable std::shared_ptr<GemmSite> site;  // set while no product runs (attach_site)
};

void PackedWeights::attach_site(std::shared_ptr<GemmSite> site) const {
  if (!impl_) throw Error("packed weights: cannot attach a product site to empty weights");
  impl_->site = std::move(site);
}

GemmSite* PackedWeights::site() const { return impl_ ? impl_->site.get() : nullptr; }

std::vector<float> PackedWeights::unpack() const {
  if (!impl_) return {};
  std::vector<float> plain(static_cast<std::size_t>(k_) * n_);
  try {
    memory packed(impl_->full, dnnl_cpu_engine(), const_cast<float*>(impl_->data.data()));
    memory user({{k_, n_}, memory::data_type::f32, memory::format_tag::ab}, dnnl_cpu_engine(),
                plain.data());
    dnnl::reorder(packed, user).execute(dnnl_thread_stream(), packed, user);
    dnnl_thread_stream().wait();
  } catch (const dnnl::error& e) {
    rethrow_dnnl(e, "weight unpack");
  }
  return plain;
}

PackedWeights::PackedWeights(const float* b, int k, int n, int ldb, int row_period)
    : k_(k), n_(n), row_period_(row_period) {
  if (k < 1 || n < 1) throw Error("packed weights: k and n must be positive");
  if (ldb < n) throw Error("packed weights: ldb must be at least n");
  if (row_period < 0 || (row_period > 0 && k % row_period != 0))
    throw Error("packed weights: row period " + std::to_string(row_period) +
                " does not divide k = " + std::to_string(k));
  auto impl = std::make_shared<Impl>();
  try {
    omp_set_num_threads(1);  // see gemm_packed_serial
    // The layout oneDNN prefers for weights depends on k and n, not on m (checked on the
    // engine's shapes), so a representative m picks it once for every later call.
    const memory::desc src({64, k}, memory::data_type::f32, memory::format_tag::ab);
    const memory::desc any({k, n}, memory::data_type::f32, memory::format_tag::any);
    const memory::desc dst({64, n}, memory::data_type::f32, memory::format_tag::ab);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, any, dst), dnnl_cpu_engine());
    impl->full = pd.weights_desc();
    impl->data = AlignedBuffer((impl->full.get_size() + sizeof(float) - 1) / sizeof(float));
    memory user({{k, n}, memory::data_type::f32, Dims{ldb, 1}}, dnnl_cpu_engine(),
                const_cast<float*>(b));
    memory packed(impl->full, dnnl_cpu_engine(), impl->data.data());
    dnnl::reorder(user, packed).execute(dnnl_thread_stream(), user, packed);
    dnnl_thread_stream().wait();
  } catch (const dnnl::error& e) {
    rethrow_dnnl(e, "weight reorder");
  }
  // Column ranges need whole column blocks stored one after another (BA16a64b and the like):
  // a run of panels is then itself a matrix in the same layout, at an offset.
  const dnnl_memory_desc_t& d = impl->full.data;
  const auto& blk = d.format_desc.blocking;
  int col_block = 0;
  long k_blocks = 1;
  if (d.format_kind == dnnl_blocked) {
    for (int i = 0; i < blk.inner_nblks; ++i) {
      if (blk.inner_idxs[i] == 1)
        col_block = col_block ? -1 : static_cast<int>(blk.inner_blks[i]);
      else
        k_blocks = blk.inner_blks[i];
    }
  }
  const long col_blocks = col_block > 0 ? d.padded_dims[1] / col_block : 0;
  if (col_block > 0 && blk.strides[1] >= blk.strides[0] * (d.padded_dims[0] / k_blocks) &&
      static_cast<std::size_t>(blk.strides[1] * col_blocks) * sizeof(float) ==
          impl->full.get_size()) {
    panel_ = col_block;
    impl->panel_stride = blk.strides[1];
  } else {
    panel_ = n;
  }
  impl_ = std::move(impl);
  LayerLog::record(*this);
}

namespace {

// How the residual enters: as a binary post-op reading it, or as a sum post-op onto C when C
// already holds it (x += f(x) W, or a residual copied into a staging tile).
enum class ResidualMode { none, binary_add, sum_into_c };

// Every operand is dense (leading dimension = columns): oneDNN 2.6's fast matmul (brgemm)
// rejects strided A, C and residual and falls back to its reference loop (seconds per call on
// the engine's 196-row layers, ONEDNN_VERBOSE=1).
struct Key {
  int m, k, n;
  bool bias;
  Activation act;
  ResidualMode residual;
  memory::desc weights;
  bool operator==(const Key& o) const {
    return m == o.m && k == o.k && n == o.n && bias == o.bias && act == o.act &&
           residual == o.residual && weights == o.weights;
  }
};

struct KeyHash {
  std::size_t operator()(const Key& key) const {
    std::size_t h = 0;
    for (long v :
         {long(key.m), long(key.k), long(key.n), long(key.bias), long(key.act), long(key.residual)})
      h = h * 1000003u ^ std::hash<long>()(v);
    return h;
  }
};

struct Entry {
  dnnl::matmul primitive;
  memory::desc src, dst, bias, residual, scratch;
};

// Creating a primitive JIT-compiles its kernels, far slower than running it, so each (shape,
// epilogue) is made once and shared: oneDNN primitives may execute concurrently, each call with
// its own stream and scratchpad.
class PrimitiveCache {
 public:
  std::shared_ptr<const Entry> get(const Key& key) {
    {
      std::shared_lock lock(mutex_);
      const auto it = map_.find(key);
      if (it != map_.end()) return it->second;
    }
    auto made = make(key);  // outside the lock: creation is the slow part
    std::unique_lock lock(mutex_);
    return map_.try_emplace(key, std::move(made)).first->second;
  }

 private:
  static std::shared_ptr<const Entry> make(const Key& key) {
    auto e = std::make_shared<Entry>();
    const auto f32 = memory::data_type::f32;
    e->src = memory::desc({key.m, key.k}, f32, memory::format_tag::ab);
    e->dst = memory::desc({key.m, key.n}, f32, memory::format_tag::ab);
    if (key.bias) e->bias = memory::desc({1, key.n}, f32, memory::format_tag::ab);
    dnnl::post_ops ops;
    append_activation(ops, key.act);
    if (key.residual == ResidualMode::sum_into_c) ops.append_sum(1.0f);
    if (key.residual == ResidualMode::binary_add) {
      e->residual = e->dst;
      ops.append_binary(dnnl::algorithm::binary_add, e->residual);
    }
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(e->src, key.weights, e->bias, e->dst),
                                          attr, dnnl_cpu_engine());
    e->scratch = pd.scratchpad_desc();
    e->primitive = dnnl::matmul(pd);
    return e;
  }

  std::shared_mutex mutex_;
  std::unordered_map<Key, std::shared_ptr<const Entry>, KeyHash> map_;
};

PrimitiveCache& primitive_cache() {
  static PrimitiveCache cache;
  return cache;
}

// The weights of panels [p0, p1) as a oneDNN memory (made once per range, see Impl).
std::pair<memory::desc, memory> weight_range(const PackedWeights& b, int p0, int p1) {
  const PackedWeights::Impl& impl = b.impl();
  std::lock_guard lock(impl.mutex);
  auto it = impl.ranges.find({p0, p1});
  if (it == impl.ranges.end()) {
    memory::desc md = impl.full;
    float* base = const_cast<float*>(impl.data.data());
    if (impl.panel_stride > 0) {
      dnnl_memory_desc_t d = impl.full.data;
      d.dims[1] = std::min(b.n(), p1 * b.panel_width()) - p0 * b.panel_width();
      d.padded_dims[1] = static_cast<long>(p1 - p0) * b.panel_width();
      md = memory::desc(d);
      base += static_cast<long>(p0) * impl.panel_stride;
    }
    it = impl.ranges
             .emplace(std::make_pair(p0, p1),
                      std::make_pair(md, memory(md, dnnl_cpu_engine(), base)))
             .first;
  }
  return it->second;
}

// Copies rows x cols floats between matrices with leading dimensions ld_src and ld_dst.
void copy_tile(int rows, int cols, const float* src, int ld_src, float* dst, int ld_dst) {
  for (int i = 0; i < rows; ++i)
    std::memcpy(dst + static_cast<long>(i) * ld_dst, src + static_cast<long>(i) * ld_src,
                sizeof(float) * cols);
}

// Per-thread staging for operands that are not dense (see Key), grown on demand.
float* staging(AlignedBuffer& buffer, std::size_t floats) {
  if (buffer.size() < floats) buffer = AlignedBuffer(floats);
  return buffer.data();
}

}  // namespace

void gemm_packed_serial(int m, const float* a, int lda, const PackedWeights& b, float* c, int ldc,
                        const GemmEpilogue& ep, int p0, int p1) {
  if (b.panels() == 0) throw Error("gemm_packed: empty weights");
  if (p1 < 0) p1 = b.panels();
  if (p0 < 0 || p0 >= p1 || p1 > b.panels())
    throw Error("gemm_packed: panel range [" + std::to_string(p0) + ", " + std::to_string(p1) +
                ") outside [0, " + std::to_string(b.panels()) + ")");
  if (m <= 0) return;
  if (GemmSite* site = b.site(); site && site->run(m, a, lda, b, c, ldc, ep, p0, p1)) return;
  // oneDNN's CPU runtime here is OpenMP, whose thread count is a per-thread setting read when a
  // primitive is planned and run. The engine threads with TBB tiles, so a tile's GEMM runs on
  // exactly its calling thread. Letting oneDNN's OpenMP pool thread whole GEMMs instead, beside
  // TBB's pool on the same cores, measured 6x slower end to end on a loaded 2-core machine.
  omp_set_num_threads(1);
  const int k = b.k(), j0 = p0 * b.panel_width();
  const int n = std::min(b.n(), p1 * b.panel_width()) - j0;
  thread_local AlignedBuffer a_stage, c_stage, scratch;
  // Column ranges (and strided callers) go through dense per-thread tiles: one m x n copy,
  // small next to the m x n x k product, instead of oneDNN's reference fallback.
  if (lda != k) {
    float* dense = staging(a_stage, static_cast<std::size_t>(m) * k);
    copy_tile(m, k, a, lda, dense, k);
    a = dense;
  }
  float* const c_out = c + j0;
  float* const out = ldc == n ? c_out : staging(c_stage, static_cast<std::size_t>(m) * n);
  const float* const residual = ep.residual ? ep.residual + j0 : nullptr;
  ResidualMode mode = ResidualMode::none;
  if (residual == c_out && ep.ldr == ldc && out == c_out) {
    mode = ResidualMode::sum_into_c;  // already in place (x += f(x) W)
  } else if (residual && ep.ldr == n && residual != c_out && out == c_out) {
    mode = ResidualMode::binary_add;
  } else if (residual) {
    copy_tile(m, n, residual, ep.ldr, out, n);  // C = residual, then the sum post-op
    mode = ResidualMode::sum_into_c;
  }
  try {
    const auto [weights_md, weights] = weight_range(b, p0, p1);
    const auto entry =
        primitive_cache().get(Key{m, k, n, ep.bias != nullptr, ep.act, mode, weights_md});
    const dnnl::engine& eng = dnnl_cpu_engine();
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, memory(entry->src, eng, const_cast<float*>(a))},
        {DNNL_ARG_WEIGHTS, weights},
        {DNNL_ARG_DST, memory(entry->dst, eng, out)},
        {DNNL_ARG_SCRATCHPAD,
         memory(entry->scratch, eng,
                staging(scratch, entry->scratch.get_size() / sizeof(float) + 1))}};
    if (ep.bias)
      args.emplace(DNNL_ARG_BIAS, memory(entry->bias, eng, const_cast<float*>(ep.bias + j0)));
    if (mode == ResidualMode::binary_add) {
      const int index = ep.act == Activation::none ? 0 : 1;  // after the eltwise post-op
      args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1,
                   memory(entry->residual, eng, const_cast<float*>(residual)));
    }
    entry->primitive.execute(dnnl_thread_stream(), args);
  } catch (const dnnl::error& e) {
    rethrow_dnnl(e, "matmul");
  }
  if (out != c_out) copy_tile(m, n, out, n, c_out, ldc);
}

void gemm_packed(int m, const float* a, int lda, const PackedWeights& b, float* c, int ldc,
                 const GemmEpilogue& ep) {
  const int threads = engine_threads();
  const int panels = b.panels();
  if (threads == 1 || 2.0 * m * b.n() * b.k() < 2e5) {
    gemm_packed_serial(m, a, lda, b, c, ldc, ep);
    return;
  }
  // Tall A: row tiles. Few rows: whole panels per thread (the threads split the weight reads),
  // unless the panels do not divide evenly (7 panels of a 448-wide layer on 2 threads) and
  // there are rows enough to split instead.
  const bool rows_split = m >= 256 * threads || panels < threads ||
                          (panels % threads != 0 && panels < 8 * threads && m >= 48 * threads);
  if (rows_split) {
    const int tiles = threads * std::max(1, m / (256 * threads));
    const int rows = (m + tiles - 1) / tiles;
    parallel_for(0, tiles, 1, [&](int lo, int hi) {
      for (int t = lo; t < hi; ++t) {
        const int i0 = t * rows, i1 = std::min(m, i0 + rows);
        if (i0 >= i1) continue;
        GemmEpilogue e = ep;
        if (e.residual) e.residual += static_cast<long>(i0) * e.ldr;
        gemm_packed_serial(i1 - i0, a + static_cast<long>(i0) * lda, lda, b,
                           c + static_cast<long>(i0) * ldc, ldc, e);
      }
    });
  } else {
    // Few rows: each thread takes a contiguous run of panels (and so of the weight reads).
    const int tiles = std::min(panels, threads);
    parallel_for(0, tiles, 1, [&](int lo, int hi) {
      for (int t = lo; t < hi; ++t) {
        const int q0 = static_cast<int>(static_cast<long>(panels) * t / tiles);
        const int q1 = static_cast<int>(static_cast<long>(panels) * (t + 1) / tiles);
        if (q0 < q1) gemm_packed_serial(m, a, lda, b, c, ldc, ep, q0, q1);
      }
    });
  }
}

}  // namespace hwnas
