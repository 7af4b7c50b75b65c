#include "evaluators/ops/op_params.h"

#include <string>

#include "core/error.h"
#include "evaluators/io/safetensors.h"

namespace hwnas {

namespace {

std::string shape(const Tensor& t) { return shape_string({t.n(), t.h(), t.w(), t.c()}); }

void require(bool ok, const char* op, const std::string& what) {
  if (!ok) throw Error(std::string(op) + ": " + what);
}

}  // namespace

int conv_out_size(int size, int kernel, int stride, int pad) {
  return (size + 2 * pad - kernel) / stride + 1;
}

void validate(const Conv2dParams& p, const Tensor& in, const Tensor& out) {
  require(p.cin > 0 && p.cout > 0 && p.kernel > 0 && p.stride > 0 && p.pad >= 0, "conv2d",
          "cin, cout, kernel and stride must be positive and pad non-negative");
  require(in.c() == p.cin, "conv2d",
          "input " + shape(in) + " must have cin=" + std::to_string(p.cin) + " channels");
  require(in.h() + 2 * p.pad >= p.kernel && in.w() + 2 * p.pad >= p.kernel, "conv2d",
          "input " + shape(in) + " is smaller than the kernel");
  const int ho = conv_out_size(in.h(), p.kernel, p.stride, p.pad);
  const int wo = conv_out_size(in.w(), p.kernel, p.stride, p.pad);
  require(out.n() == in.n() && out.h() == ho && out.w() == wo && out.c() == p.cout, "conv2d",
          "output " + shape(out) + " must be (" + std::to_string(in.n()) + "," +
              std::to_string(ho) + "," + std::to_string(wo) + "," + std::to_string(p.cout) + ")");
}

void validate(const LinearParams& p, const Tensor& in, const Tensor& out) {
  require(p.in > 0 && p.out > 0, "linear", "in and out must be positive");
  require(in.c() == p.in, "linear",
          "input " + shape(in) + " must have " + std::to_string(p.in) + " channels");
  require(
      out.size() / static_cast<std::size_t>(p.out) == in.size() / static_cast<std::size_t>(p.in) &&
          out.c() == p.out,
      "linear",
      "output " + shape(out) + " must hold the input's rows with " + std::to_string(p.out) +
          " channels");
}

void validate(const PoolMixerParams& p, const Tensor& in, const Tensor& out) {
  require(p.c > 0 && p.pool > 0 && p.pool % 2 == 1, "pool_mixer",
          "c must be positive and pool odd");
  require(in.c() == p.c, "pool_mixer",
          "input " + shape(in) + " must have c=" + std::to_string(p.c));
  require(out.n() == in.n() && out.h() == in.h() && out.w() == in.w() && out.c() == in.c(),
          "pool_mixer", "output " + shape(out) + " must equal input " + shape(in));
}

void validate(const LayerNormParams& p, const Tensor& in, const Tensor& out) {
  require(p.c > 0 && p.eps > 0, "layer_norm", "c and eps must be positive");
  require(
      in.c() == p.c && out.size() == in.size() && out.c() == p.c, "layer_norm",
      "input " + shape(in) + " and output " + shape(out) + " must have c=" + std::to_string(p.c));
}

void validate(const EfficientFormerAttentionParams& p, const Tensor& qkv, const Tensor& out) {
  require(p.heads > 0 && p.kd > 0 && p.dv > 0 && p.h > 0 && p.w > 0, "attention",
          "heads, kd, dv, h and w must be positive");
  require(qkv.c() == p.qkv_width() && qkv.h() * qkv.w() == p.h * p.w, "attention",
          "qkv " + shape(qkv) + " must hold h*w=" + std::to_string(p.h * p.w) + " tokens of " +
              std::to_string(p.qkv_width()) + " channels");
  require(out.n() == qkv.n() && out.h() * out.w() == p.h * p.w && out.c() == p.out_width(),
          "attention",
          "output " + shape(out) + " must hold the tokens with " + std::to_string(p.out_width()) +
              " channels");
}

void validate(const DepthwiseConv2dParams& p, const Tensor& in, const Tensor& out) {
  require(p.c > 0 && p.kernel > 0 && p.stride > 0 && p.pad >= 0, "depthwise_conv2d",
          "c, kernel and stride must be positive and pad non-negative");
  require(in.c() == p.c, "depthwise_conv2d",
          "input " + shape(in) + " must have c=" + std::to_string(p.c));
  require(in.h() + 2 * p.pad >= p.kernel && in.w() + 2 * p.pad >= p.kernel, "depthwise_conv2d",
          "input " + shape(in) + " is smaller than the kernel");
  const int ho = conv_out_size(in.h(), p.kernel, p.stride, p.pad);
  const int wo = conv_out_size(in.w(), p.kernel, p.stride, p.pad);
  require(out.n() == in.n() && out.h() == ho && out.w() == wo && out.c() == p.c, "depthwise_conv2d",
          "output " + shape(out) + " must be (" + std::to_string(in.n()) + "," +
              std::to_string(ho) + "," + std::to_string(wo) + "," + std::to_string(p.c) + ")");
}

void validate(const AvgPoolIncludePadParams& p, const Tensor& in, const Tensor& out) {
  require(p.c > 0 && p.kernel > 0 && p.stride > 0 && p.pad >= 0 && 2 * p.pad <= p.kernel,
          "avg_pool2d", "c, kernel and stride must be positive and pad in [0, kernel/2]");
  require(in.c() == p.c && in.h() + 2 * p.pad >= p.kernel && in.w() + 2 * p.pad >= p.kernel,
          "avg_pool2d",
          "input " + shape(in) + " must have c=" + std::to_string(p.c) + " and fit the window");
  const int ho = conv_out_size(in.h(), p.kernel, p.stride, p.pad);
  const int wo = conv_out_size(in.w(), p.kernel, p.stride, p.pad);
  require(out.n() == in.n() && out.h() == ho && out.w() == wo && out.c() == p.c, "avg_pool2d",
          "output " + shape(out) + " must be (" + std::to_string(in.n()) + "," +
              std::to_string(ho) + "," + std::to_string(wo) + "," + std::to_string(p.c) + ")");
}

void validate(const SqueezeExciteParams& p, const Tensor& x) {
  require(p.c > 0 && p.reduced > 0, "squeeze_excite", "c and reduced must be positive");
  require(x.c() == p.c && x.h() * x.w() > 0, "squeeze_excite",
          "input " + shape(x) + " must be a non-empty map with c=" + std::to_string(p.c));
}

void validate(const SampleNormParams& p, const Tensor& in, const Tensor& out) {
  require(p.c > 0 && p.eps > 0, "sample_norm", "c and eps must be positive");
  require(in.c() == p.c && in.h() * in.w() > 0 && out.n() == in.n() && out.size() == in.size() &&
              out.c() == p.c,
          "sample_norm",
          "input " + shape(in) + " and output " + shape(out) +
              " must match with c=" + std::to_string(p.c));
}

void validate(const BiasedAttentionParams& p, const Tensor& qk, const Tensor& v,
              const Tensor& out) {
  require(p.heads > 0 && p.kd > 0 && p.dv > 0 && p.n > 0, "biased_attention",
          "heads, kd, dv and n must be positive");
  require(qk.c() == p.qk_width() && qk.h() * qk.w() == p.n, "biased_attention",
          "qk " + shape(qk) + " must hold n=" + std::to_string(p.n) + " tokens of " +
              std::to_string(p.qk_width()) + " channels");
  require(
      v.n() == qk.n() && v.c() == p.v_width() && v.h() * v.w() == p.n, "biased_attention",
      "v " + shape(v) + " must hold the tokens with " + std::to_string(p.v_width()) + " channels");
  require(out.n() == qk.n() && out.c() == p.v_width() && out.h() * out.w() == p.n,
          "biased_attention",
          "output " + shape(out) + " must hold the tokens with " + std::to_string(p.v_width()) +
              " channels");
}

void validate(const MaxPoolParams& p, const Tensor& in, const Tensor& out) {
  require(p.c > 0 && p.window > 0, "max_pool", "c and window must be positive");
  require(in.c() == p.c && in.h() % p.window == 0 && in.w() % p.window == 0, "max_pool",
          "input " + shape(in) + " must have c=" + std::to_string(p.c) + " and h, w divisible by " +
              std::to_string(p.window));
  require(out.n() == in.n() && out.h() == in.h() / p.window && out.w() == in.w() / p.window &&
              out.c() == p.c,
          "max_pool",
          "output " + shape(out) + " must be the input " + shape(in) + " pooled by " +
              std::to_string(p.window));
}

void validate(const WindowAttentionParams& p, const Tensor& qkv, const Tensor& out) {
  const char* op = "window_attention";
  require(p.heads > 0 && p.head_dim > 0 && p.h > 0 && p.w > 0 && p.window >= 0, op,
          "heads, head_dim, h and w must be positive and window >= 0 (0 = global)");
  require(p.window == 0 || (p.h % p.window == 0 && p.w % p.window == 0), op,
          "window " + std::to_string(p.window) + " must divide the " + std::to_string(p.h) + "x" +
              std::to_string(p.w) + " token map");
  require(!p.qpool || (p.h % 2 == 0 && p.w % 2 == 0 && (p.window == 0 || p.window % 2 == 0)), op,
          "q-pooling needs an even token map and an even window");
  require(qkv.c() == p.qkv_width() && qkv.h() == p.h && qkv.w() == p.w, op,
          "qkv " + shape(qkv) + " must be (B," + std::to_string(p.h) + "," + std::to_string(p.w) +
              "," + std::to_string(p.qkv_width()) + ")");
  require(
      out.n() == qkv.n() && out.h() == p.out_h() && out.w() == p.out_w() && out.c() == p.width(),
      op,
      "output " + shape(out) + " must be (" + std::to_string(qkv.n()) + "," +
          std::to_string(p.out_h()) + "," + std::to_string(p.out_w()) + "," +
          std::to_string(p.width()) + ")");
}

}  // namespace hwnas
