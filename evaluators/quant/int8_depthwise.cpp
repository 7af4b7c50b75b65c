#include "evaluators/quant/int8_depthwise.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <utility>
#include <vector>

#include <omp.h>

#include "core/error.h"
#include "evaluators/ops/dnnl_context.h"
#include "evaluators/quant/int8_depthwise_rows.h"
#include "evaluators/quant/int8_gemm.h"
#include "evaluators/runtime/parallel.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {

namespace {

using dnnl::memory;

std::mutex implementation_mutex;
std::string implementation_seen;

std::uint8_t* grow_bytes(AlignedBuffer& buffer, std::size_t bytes) {
  const std::size_t floats = (bytes + sizeof(float) - 1) / sizeof(float);
  if (buffer.size() < floats) buffer = AlignedBuffer(floats);
  return reinterpret_cast<std::uint8_t*>(buffer.data());
}

}  // namespace

// One slab shape (rows_out output rows of one image, from rows_in rows of the padded input):
// its primitive and the s8 weights in the layout that primitive chose.
struct Int8Depthwise::Slab {
  dnnl::convolution_forward primitive;
  memory::desc src, dst, bias, scratch;
  AlignedBuffer weights;
  memory::desc weights_desc;
};

Int8Depthwise::Int8Depthwise(const DepthwiseConv2dParams& p, const float* weight, const float* bias,
                             ActivationQuant act)
    : p_(p), act_(std::move(act)) {
  require_int8_cpu();
  if (p.c <= 0 || p.kernel <= 0 || p.stride <= 0 || p.pad < 0)
    throw Error("int8 depthwise: channels, kernel and stride must be positive, pad >= 0");
  if (act_.granularity != Granularity::per_tensor || act_.channels() != 1)
    throw Error(
        "int8 depthwise: activations must be quantized per tensor (one zero point pads the "
        "input); use per-tensor calibration for depthwise layers");
  columns_ = expand_columns(act_, p.c);
  const int taps = p.kernel * p.kernel;
  // The (k,k,c) filter is a (k*k) x c matrix whose column c is channel c's filter: quantizing it
  // per column is per output channel, and the activation scale folds in as for a GEMM.
  weights_ = quantize_weights(std::vector<float>(weight, weight + static_cast<long>(taps) * p.c),
                              taps, p.c, act_, Granularity::per_channel);
  bias_.resize(p.c);
  hwnas::folded_bias(weights_, bias, 0, p.c, bias_.data());
  onednn_ = int8_on_onednn();
  if (!onednn_) {
    wide_ = widen_depthwise_weights(weights_.q);
    std::lock_guard seen(implementation_mutex);
    implementation_seen = "hwnas:avx2_u8s8_s32";
  }
}

Int8Depthwise::~Int8Depthwise() = default;

std::string Int8Depthwise::last_implementation() {
  std::lock_guard lock(implementation_mutex);
  return implementation_seen;
}

Int8Depthwise::Slab& Int8Depthwise::slab(int rows_in, int rows_out, int wp, int wo) {
  std::lock_guard lock(mutex_);
  auto& slot = slabs_[{rows_out, wp}];
  if (slot) return *slot;
  auto s = std::make_shared<Slab>();
  const int c = p_.c, k = p_.kernel;
  try {
    omp_set_num_threads(1);
    s->src = memory::desc({1, c, rows_in, wp}, memory::data_type::u8, memory::format_tag::nhwc);
    s->dst = memory::desc({1, c, rows_out, wo}, memory::data_type::f32, memory::format_tag::nhwc);
    const memory::desc any({c, 1, 1, k, k}, memory::data_type::s8, memory::format_tag::any);
    dnnl::primitive_attr attr;
    attr.set_output_scales(1 << 1, weights_.scale);
    dnnl::post_ops ops;
    s->bias = memory::desc({1, c, 1, 1}, memory::data_type::f32, memory::format_tag::nchw);
    ops.append_binary(dnnl::algorithm::binary_add, s->bias);
    append_activation(ops, p_.act);
    attr.set_post_ops(ops);
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    // Padding is already in the input (quantized zeros), so the primitive pads nothing.
    const dnnl::convolution_forward::primitive_desc pd(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                        dnnl::algorithm::convolution_direct, s->src, any, s->dst,
                                        {p_.stride, p_.stride}, {0, 0}, {0, 0}),
        attr, dnnl_cpu_engine());
    s->scratch = pd.scratchpad_desc();
    s->primitive = dnnl::convolution_forward(pd);
    s->weights_desc = pd.weights_desc();
    s->weights = AlignedBuffer((s->weights_desc.get_size() + sizeof(float) - 1) / sizeof(float));
    std::memset(s->weights.data(), 0, s->weights_desc.get_size());
    // quantize_weights' (k*k) x c row-major matrix is (ky, kx, c): as goihw dims (c, 1, 1, k, k)
    // its strides are 1 for the group and k*c, c for ky, kx.
    memory user({{c, 1, 1, k, k},
                 memory::data_type::s8,
                 memory::dims{1, 1, 1, static_cast<memory::dim>(k) * c, c}},
                dnnl_cpu_engine(), const_cast<std::int8_t*>(weights_.q.data()));
    memory packed(s->weights_desc, dnnl_cpu_engine(), s->weights.data());
    dnnl::reorder(user, packed).execute(dnnl_thread_stream(), user, packed);
    dnnl_thread_stream().wait();
    std::lock_guard seen(implementation_mutex);
    implementation_seen = pd.impl_info_str();
  } catch (const dnnl::error& e) {
    rethrow_dnnl(e, "int8 depthwise convolution");
  }
  slot = std::move(s);
  return *slot;
}

void Int8Depthwise::run(const Tensor& in, Tensor& out) {
  validate(p_, in, out);
  const int c = p_.c, k = p_.kernel, st = p_.stride, pad = p_.pad;
  const int hp = in.h() + 2 * pad, wp = in.w() + 2 * pad, ho = out.h(), wo = out.w();
  const std::size_t image = static_cast<std::size_t>(hp) * wp * c;
  thread_local AlignedBuffer padded_buffer;
  std::uint8_t* const padded = grow_bytes(padded_buffer, image * in.n());
  // The input quantized into a buffer whose border holds the zero point (the real zero).
  const auto z = static_cast<std::uint8_t>(act_.zero_point[0]);
  // A few chunks per thread: one row per chunk costs a dispatch per row on small maps.
  const int threads = engine_threads();
  parallel_for(0, in.n() * hp, std::max(1, in.n() * hp / (4 * threads)), [&](int lo, int hi) {
    for (int row = lo; row < hi; ++row) {
      const int b = row / hp, y = row % hp - pad;
      std::uint8_t* dst = padded + static_cast<std::size_t>(row) * wp * c;
      if (y < 0 || y >= in.h()) {
        std::memset(dst, z, static_cast<std::size_t>(wp) * c);
        continue;
      }
      std::memset(dst, z, static_cast<std::size_t>(pad) * c);
      quantize_activations(columns_, in.w(), in.data() + in.index(b, y, 0, 0), c,
                           dst + static_cast<std::size_t>(pad) * c);
      std::memset(dst + static_cast<std::size_t>(pad + in.w()) * c, z,
                  static_cast<std::size_t>(pad) * c);
    }
  });
  // Output rows of each image in slabs: about two per thread over the batch (each slab is one
  // primitive call with its own memory objects, which cost more than a small slab's work), at
  // most 8 per image; at most two slab heights.
  const int slabs_per_image = std::clamp((2 * threads + in.n() - 1) / in.n(), 1, std::min(ho, 8));
  const int rows = (ho + slabs_per_image - 1) / slabs_per_image;
  const int per_image = (ho + rows - 1) / rows;
  parallel_for(0, in.n() * per_image, 1, [&](int lo, int hi) {
    omp_set_num_threads(1);  // the calling tile is the only thread, as in Int8Gemm::run
    thread_local AlignedBuffer scratch;
    for (int t = lo; t < hi; ++t) {
      const int b = t / per_image, y0 = (t % per_image) * rows, n_rows = std::min(rows, ho - y0);
      const int rows_in = (n_rows - 1) * st + k;
      if (!onednn_) {
        depthwise_u8s8_rows(padded + b * image, wp, c, k, st, wide_.data(), weights_.scale.data(),
                            bias_.data(), p_.act, y0, n_rows, wo,
                            out.data() + out.index(b, y0, 0, 0));
        continue;
      }
      try {
        Slab& s = slab(rows_in, n_rows, wp, wo);
        const dnnl::engine& eng = dnnl_cpu_engine();
        std::unordered_map<int, memory> args{
            {DNNL_ARG_SRC,
             memory(s.src, eng, padded + b * image + static_cast<std::size_t>(y0) * st * wp * c)},
            {DNNL_ARG_WEIGHTS, memory(s.weights_desc, eng, s.weights.data())},
            {DNNL_ARG_DST, memory(s.dst, eng, out.data() + out.index(b, y0, 0, 0))},
            {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, memory(s.bias, eng, bias_.data())},
            {DNNL_ARG_SCRATCHPAD,
             memory(s.scratch, eng, grow_bytes(scratch, s.scratch.get_size() + 1))}};
        s.primitive.execute(dnnl_thread_stream(), args);
      } catch (const dnnl::error& e) {
        rethrow_dnnl(e, "int8 depthwise convolution");
      }
    }
  });
}

void depthwise_conv2d_int8_reference(const DepthwiseConv2dParams& p, const Tensor& in,
                                     const ActivationQuant& act, const QuantizedWeights& w,
                                     const float* bias, Tensor& out) {
  validate(p, in, out);
  if (act.channels() != 1 || w.k != p.kernel * p.kernel || w.n != p.c)
    throw Error("int8 depthwise reference: per-tensor activations and (k*k) x c weights needed");
  const ColumnQuant cols = expand_columns(act, p.c);
  std::vector<std::uint8_t> q(in.size());
  quantize_activations(cols, in.n() * in.h() * in.w(), in.data(), p.c, q.data());
  const std::int32_t z = act.zero_point[0];
  for (int b = 0; b < in.n(); ++b)
    for (int oy = 0; oy < out.h(); ++oy)
      for (int ox = 0; ox < out.w(); ++ox)
        for (int ch = 0; ch < p.c; ++ch) {
          std::int64_t acc = 0;
          for (int ky = 0; ky < p.kernel; ++ky)
            for (int kx = 0; kx < p.kernel; ++kx) {
              const int iy = oy * p.stride - p.pad + ky, ix = ox * p.stride - p.pad + kx;
              if (iy < 0 || iy >= in.h() || ix < 0 || ix >= in.w()) continue;
              acc += (static_cast<std::int64_t>(q[in.index(b, iy, ix, ch)]) - z) *
                     w.q[static_cast<std::size_t>(ky * p.kernel + kx) * p.c + ch];
            }
          float f = w.scale[ch] * static_cast<float>(acc) + (bias ? bias[ch] : 0.0f);
          apply_activation_reference(p.act, &f, 1);
          out.at(b, oy, ox, ch) = f;
        }
}

}  // namespace hwnas
