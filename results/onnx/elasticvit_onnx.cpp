// ElasticViT blocks in ONNX, operation by operation as shared/golden/elasticvit_blocks.md
// describes the official code (microsoft/Moonlit ElasticViT); parameter names are the code's.
#include <cmath>

#include "results/onnx/lowerings.h"
#include "results/onnx/qdq.h"

namespace hwnas::onnx_export {
namespace {

constexpr float kEps = 1e-5f;  // BatchNorm and the whole-sample LayerNorm

std::string first_conv(GraphBuilder& b, const std::string& x, const BlockSpec& s) {
  const std::int64_t c = s.get("c");
  const std::string y = conv(b, x, "first_conv", s.get("cin"), c, 3, 2, 1, 1, false);
  return hardswish(b, batch_norm(b, y, "first_conv_bn", c, kEps));
}

// MobileBlock: [1x1 expand + BN + hswish] -> depthwise kxk + BN + hswish -> [SE] -> 1x1 + BN,
// plus the shortcut (identity, or 2x2 average pool and/or 1x1 conv).
std::string mbconv(GraphBuilder& b, const std::string& x, const std::string& p,
                   const BlockSpec& s) {
  const std::int64_t cin = s.get("cin"), c = s.get("c"), e = cin * s.get("expand");
  const int k = s.get("k"), stride = s.get("stride");
  std::string y = x;
  if (s.get("expand") > 1)
    y = hardswish(b, batch_norm(b, conv(b, y, p + "pw_conv", cin, e, 1, 1, 0, 1, false),
                                p + "pw_bn", e, kEps));
  y = conv(b, y, p + "dw_conv", e, e, k, stride, (k - 1) / 2, e, false);
  y = hardswish(b, batch_norm(b, y, p + "dw_bn", e, kEps));
  if (s.get("se")) {
    const KeepFp32 fp32(b);
    const std::int64_t r = e / 4;
    std::string a = reduce_mean(b, y, {2, 3}, true);
    a = b.op("Relu", {conv(b, a, p + "se_conv1", e, r, 1, 1, 0, 1, true)});
    a = hardsigmoid(b, conv(b, a, p + "se_conv2", r, e, 1, 1, 0, 1, true));
    y = b.op("Mul", {y, a});
  }
  // The shortcut is emitted first: the engine runs its 1x1 conv before the projection, and an
  // int8 plan lists GEMM layers in the engine's order.
  std::string shortcut = x;
  if (stride > 1) {
    // avg_pool2d(2, 2, padding 1 if W is odd) with count_include_pad: every window / 4.
    const std::int64_t pad = s.get("w") % 2;
    auto* pool = b.node("AveragePool", {x}, shortcut);
    GraphBuilder::ints(pool, "kernel_shape", {2, 2});
    GraphBuilder::ints(pool, "strides", {2, 2});
    GraphBuilder::ints(pool, "pads", {pad, pad, pad, pad});
    GraphBuilder::integer(pool, "count_include_pad", 1);
  }
  if (cin != c) shortcut = conv(b, shortcut, p + "shortcut_conv", cin, c, 1, 1, 0, 1, false);
  y = batch_norm(b, conv(b, y, p + "pwl_conv", e, c, 1, 1, 0, 1, false), p + "pwl_bn", c, kEps);
  return b.op("Add", {y, shortcut});
}

// q, k and v (B, heads, N, d) of the qkv Linear without bias, whose output holds per head
// (q, k, v) chunks.
std::vector<std::string> qkv(GraphBuilder& b, const std::string& x, const std::string& p,
                             std::int64_t c, std::int64_t n, std::int64_t heads, std::int64_t kd,
                             std::int64_t dv) {
  const std::string y = linear(b, x, p + "qkv", c, heads * (2 * kd + dv), false);
  return split(b, transpose(b, reshape(b, y, {b.batch, n, heads, 2 * kd + dv}), {0, 2, 1, 3}), 3,
               {kd, kd, dv});
}

// The same as two GEMM layers, as the engine runs it (evit_attention_block) and an int8 plan
// quantizes it: the q and k chunks of every head, then the v chunks.
std::vector<std::string> split_qkv(GraphBuilder& b, const std::string& x, const std::string& p,
                                   std::int64_t c, std::int64_t n, std::int64_t heads,
                                   std::int64_t kd, std::int64_t dv) {
  const std::int64_t per = 2 * kd + dv;
  const std::vector<float>& w = b.stored(p + "qkv.weight", {heads * per, c}).data;
  std::vector<float> qk, v;
  for (std::int64_t hd = 0; hd < heads; ++hd)
    for (std::int64_t r = 0; r < per; ++r) {
      std::vector<float>& to = r < 2 * kd ? qk : v;
      const auto row = w.begin() + (hd * per + r) * c;
      to.insert(to.end(), row, row + c);
    }
  auto product = [&](const std::vector<float>& rows, std::int64_t d) {
    const GemmInputs ops = gemm_inputs(b, x, p + "qkv", rows, {heads * d, c}, -1);
    const std::string y = b.op("MatMul", {ops.x, transpose(b, ops.weight, {1, 0})});
    return transpose(b, reshape(b, y, {b.batch, n, heads, d}), {0, 2, 1, 3});
  };
  std::vector<std::string> parts = split(b, product(qk, 2 * kd), 3, {kd, kd});
  parts.push_back(product(v, dv));
  return parts;
}

// x + proj(hswish(MHSA(LN_sample(x)))): qkv without bias split per head into (q, k, v), a 3x3
// depthwise conv over V on the token grid, relative-position bias per head.
std::string attention(GraphBuilder& b, const std::string& x, const std::string& p,
                      const BlockSpec& s) {
  const std::int64_t c = s.get("c"), gh = s.get("h"), gw = s.get("w"), n = gh * gw;
  const std::int64_t heads = s.get("heads"), kd = c / heads, dv = kd * s.get("v_scale");
  const std::vector<std::string> qkv_parts =
      b.int8 ? split_qkv(b, sample_norm(b, x, p + "norm1", c, kEps), p, c, n, heads, kd, dv)
             : qkv(b, sample_norm(b, x, p + "norm1", c, kEps), p, c, n, heads, kd, dv);
  const std::string& q = qkv_parts[0];
  // V (B, heads, N, dv) -> (B, heads*dv, H, W), channel i*dv + j -> depthwise 3x3 -> back.
  std::string v =
      reshape(b, transpose(b, qkv_parts[2], {0, 1, 3, 2}), {b.batch, heads * dv, gh, gw});
  v = conv(b, v, p + "dw_v_conv", heads * dv, heads * dv, 3, 1, 1, heads * dv, false);
  v = transpose(b, reshape(b, v, {b.batch, heads, dv, n}), {0, 1, 3, 2});
  std::string scores = b.op("Mul", {b.op("MatMul", {q, transpose(b, qkv_parts[1], {0, 1, 3, 2})}),
                                    b.const_floats({1}, {1.0f / std::sqrt(float(kd))})});
  // bias[i][q][k] = table[(yq - yk + H - 1) * (2W - 1) + (xq - xk + W - 1)][i].
  std::vector<std::int64_t> idx;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      idx.push_back((i / gw - j / gw + gh - 1) * (2 * gw - 1) + (i % gw - j % gw + gw - 1));
  const std::string bias =
      gathered_bias(b, p + "attention_bias", (2 * gh - 1) * (2 * gw - 1), heads, n, idx, false);
  const std::string soft = softmax(b, b.op("Add", {scores, bias}));
  std::string o = transpose(b, b.op("MatMul", {soft, v}), {0, 2, 1, 3});
  o = hardswish(b, reshape(b, o, {b.batch, n, heads * dv}));
  return b.op("Add", {x, linear(b, o, p + "proj", heads * dv, c)});
}

std::string ffn(GraphBuilder& b, const std::string& x, const std::string& p, const BlockSpec& s) {
  const std::int64_t c = s.get("c"), hid = c * s.get("mlp");
  const std::string h =
      hardswish(b, linear(b, sample_norm(b, x, p + "norm1", c, kEps), p + "fc1", c, hid));
  return b.op("Add", {x, linear(b, h, p + "fc2", hid, c)});
}

// MobileNetV3 head on tokens: Linear + BN + hswish per token, mean, Linear + hswish, classifier.
std::string head(GraphBuilder& b, const std::string& x, const BlockSpec& s) {
  const std::int64_t c = s.get("c"), mc = c * s.get("mul"), feat = s.get("feat");
  const std::int64_t classes = s.get("classes");
  std::string t = transpose(b, linear(b, x, "pre_head_0", c, mc), {0, 2, 1});  // (B, mC, N)
  t = hardswish(b, batch_norm(b, t, "pre_head_norm_0", mc, kEps));
  const std::string pooled = reduce_mean(b, t, {2}, false);
  return classifier(b, hardswish(b, classifier(b, pooled, "pre_head_1", mc, feat)), "classifer",
                    feat, classes);
}

}  // namespace

std::string lower_elasticvit(GraphBuilder& b, const BlockSpec& s, const std::string& p,
                             const std::string& x) {
  switch (s.kind) {
    case BlockKind::evit_first_conv:
      return first_conv(b, x, s);
    case BlockKind::evit_mbconv:
      return mbconv(b, x, p, s);
    case BlockKind::evit_attention:
      return attention(b, x, p, s);
    case BlockKind::evit_ffn:
      return ffn(b, x, p, s);
    case BlockKind::evit_head:
      return head(b, x, s);
    case BlockKind::stem:
    case BlockKind::meta4d:
    case BlockKind::downsample:
    case BlockKind::flatten:
    case BlockKind::meta3d:
    case BlockKind::head:
    case BlockKind::hiera_patch_embed:
    case BlockKind::hiera_block:
    case BlockKind::hiera_head:
      return "";  // another family's kind
  }
  return "";  // a value outside the enumeration
}

}  // namespace hwnas::onnx_export
