// EfficientFormer blocks in ONNX (timm efficientformer.py; block_kind.def).
#include <cmath>
#include <cstdlib>

#include "results/onnx/lowerings.h"
#include "results/onnx/qdq.h"

namespace hwnas::onnx_export {
namespace {

constexpr float kEps = 1e-5f;  // timm's BatchNorm2d and LayerNorm defaults

// Conv (with bias) + BatchNormalization (+ Relu), NCHW.
std::string conv_bn(GraphBuilder& b, const std::string& x, const std::string& conv_name,
                    const std::string& bn, std::int64_t cin, std::int64_t cout, int k, int stride,
                    bool relu) {
  const std::string y =
      batch_norm(b, conv(b, x, conv_name, cin, cout, k, stride, k / 2, 1, true), bn, cout, kEps);
  return relu ? b.op("Relu", {y}) : y;
}

// Per-channel layer scale of an NCHW map: gamma (C) reshaped to (C, 1, 1).
std::string layer_scale_nchw(GraphBuilder& b, const std::string& x, const std::string& gamma,
                             std::int64_t c) {
  return b.op("Mul", {x, reshape(b, b.param(gamma, {c}), {c, 1, 1})});
}

std::string meta4d(GraphBuilder& b, const std::string& x, const std::string& p,
                   const BlockSpec& s) {
  const std::int64_t c = s.get("c"), hid = c * s.get("mlp"), k = s.get("pool");
  std::string pooled;
  auto* pool = b.node("AveragePool", {x}, pooled);
  GraphBuilder::ints(pool, "kernel_shape", {k, k});
  GraphBuilder::ints(pool, "strides", {1, 1});
  GraphBuilder::ints(pool, "pads", {k / 2, k / 2, k / 2, k / 2});
  GraphBuilder::integer(pool, "count_include_pad", 0);
  const std::string y =
      b.op("Add", {x, layer_scale_nchw(b, b.op("Sub", {pooled, x}), p + "ls1.gamma", c)});
  std::string h = conv_bn(b, y, p + "mlp.fc1", p + "mlp.norm1", c, hid, 1, 1, false);
  h = conv_bn(b, gelu(b, h), p + "mlp.fc2", p + "mlp.norm2", hid, c, 1, 1, false);
  return b.op("Add", {y, layer_scale_nchw(b, h, p + "ls2.gamma", c)});
}

std::string meta3d(GraphBuilder& b, const std::string& x, const std::string& p,
                   const BlockSpec& s) {
  const std::int64_t c = s.get("c"), gw = s.get("w"), n = s.get("h") * gw;
  const std::int64_t heads = s.get("heads"), kd = s.get("kd"), dv = kd * s.get("ar");
  const std::int64_t hid = c * s.get("mlp");
  // Attention: qkv is split per head first (timm's layout), then into q, k, v.
  std::string qkv = linear(b, layer_norm(b, x, p + "norm1", c, kEps, 3), p + "token_mixer.qkv", c,
                           heads * (2 * kd + dv));
  qkv = transpose(b, reshape(b, qkv, {b.batch, n, heads, 2 * kd + dv}), {0, 2, 1, 3});
  const auto qkv_parts = split(b, qkv, 3, {kd, kd, dv});
  const std::string& q = qkv_parts[0];
  std::string attn = b.op("Mul", {b.op("MatMul", {q, transpose(b, qkv_parts[1], {0, 1, 3, 2})}),
                                  b.const_floats({1}, {1.0f / std::sqrt(float(kd))})});
  // Bias[head, |drow| * w + |dcol|] gathered over every token pair.
  std::vector<std::int64_t> idx;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      idx.push_back(std::abs(i / gw - j / gw) * gw + std::abs(i % gw - j % gw));
  const std::string bias =
      gathered_bias(b, p + "token_mixer.attention_biases", n, heads, n, idx, true);
  const std::string soft = softmax(b, b.op("Add", {attn, bias}));
  std::string o = transpose(b, b.op("MatMul", {soft, qkv_parts[2]}), {0, 2, 1, 3});
  o = linear(b, reshape(b, o, {b.batch, n, heads * dv}), p + "token_mixer.proj", heads * dv, c);
  const std::string y = b.op("Add", {x, b.op("Mul", {o, b.param(p + "ls1.gamma", {c})})});
  std::string h = linear(b, layer_norm(b, y, p + "norm2", c, kEps, 3), p + "mlp.fc1", c, hid);
  h = linear(b, gelu(b, h), p + "mlp.fc2", hid, c);
  return b.op("Add", {y, b.op("Mul", {h, b.param(p + "ls2.gamma", {c})})});
}

std::string head(GraphBuilder& b, const std::string& x, const BlockSpec& s) {
  const std::int64_t c = s.get("c"), classes = s.get("classes");
  const std::string pooled = reduce_mean(b, layer_norm(b, x, "norm", c, kEps, 3), {1}, false);
  if (s.get("dist") == 0) return classifier(b, pooled, "head", c, classes);
  if (b.int8) {
    // The engine runs the two classifiers as one averaged layer (efficientformer_head_block),
    // and an int8 plan quantizes that layer.
    const auto& w = b.stored("head.weight", {classes, c}).data;
    const auto& wd = b.stored("head_dist.weight", {classes, c}).data;
    const auto& bias = b.stored("head.bias", {classes}).data;
    const auto& bias_d = b.stored("head_dist.bias", {classes}).data;
    std::vector<float> wm(w.size()), bm(bias.size());
    for (std::size_t i = 0; i < w.size(); ++i) wm[i] = (w[i] + wd[i]) * 0.5f;
    for (std::size_t i = 0; i < bias.size(); ++i) bm[i] = (bias[i] + bias_d[i]) * 0.5f;
    const GemmInputs ops = gemm_inputs(b, pooled, "head_averaged", wm, {classes, c}, 1);
    std::string y;
    GraphBuilder::integer(b.node("Gemm", {ops.x, ops.weight, b.const_floats({classes}, bm)}, y),
                          "transB", 1);
    return y;
  }
  // With a distillation head, the two classifiers are averaged as timm does at inference; the
  // 1/2 goes into each Gemm's alpha and beta (exact in binary floating point).
  return b.op("Add", {classifier(b, pooled, "head", c, classes, 0.5f),
                      classifier(b, pooled, "head_dist", c, classes, 0.5f)});
}

}  // namespace

std::string lower_efficientformer(GraphBuilder& b, const BlockSpec& s, const std::string& p,
                                  const std::string& x) {
  switch (s.kind) {
    case BlockKind::stem: {
      const std::int64_t c = s.get("c");
      const std::string y =
          conv_bn(b, x, p + "conv1", p + "norm1", s.get("cin"), c / 2, 3, 2, true);
      return conv_bn(b, y, p + "conv2", p + "norm2", c / 2, c, 3, 2, true);
    }
    case BlockKind::downsample:
      return conv_bn(b, x, p + "conv", p + "norm", s.get("cin"), s.get("c"), 3, 2, false);
    case BlockKind::meta4d:
      return meta4d(b, x, p, s);
    case BlockKind::flatten:
      return map_to_tokens(b, x, s.get("c"), s.get("h"), s.get("w"));
    case BlockKind::meta3d:
      return meta3d(b, x, p, s);
    case BlockKind::head:
      return head(b, x, s);
    case BlockKind::evit_first_conv:
    case BlockKind::evit_mbconv:
    case BlockKind::evit_attention:
    case BlockKind::evit_ffn:
    case BlockKind::evit_head:
    case BlockKind::hiera_patch_embed:
    case BlockKind::hiera_block:
    case BlockKind::hiera_head:
      return "";  // another family's kind
  }
  return "";  // a value outside the enumeration
}

}  // namespace hwnas::onnx_export
