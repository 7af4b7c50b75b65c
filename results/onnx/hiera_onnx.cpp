// Hiera blocks in ONNX (timm hiera.py; shared/golden/hiera_blocks.md). Tokens stay in spatial
// row-major order, as in the engine: a mask unit is an aligned window of the map and Q-pooling
// a 2x2 max inside it, so windows are Reshape/Transpose of the token grid.
#include <cmath>

#include "results/onnx/lowerings.h"

namespace hwnas::onnx_export {
namespace {

constexpr float kEps = 1e-6f;  // Hiera's LayerNorm

std::string patch_embed(GraphBuilder& b, const std::string& x, const BlockSpec& s) {
  const std::int64_t c = s.get("c");
  const FeatureShape out = block_output_shape(s);
  const std::string y = map_to_tokens(
      b, conv(b, x, "patch_embed.proj", s.get("cin"), c, 7, 4, 3, 1, true), c, out.h, out.w);
  return b.op("Add", {y, b.param("pos_embed", {1, std::int64_t{out.h} * out.w, c})});
}

// 2x2 stride-2 max over (B, H*W, C) tokens -> (B, H/2 * W/2, C).
std::string max_pool_tokens(GraphBuilder& b, const std::string& x, std::int64_t c, std::int64_t h,
                            std::int64_t w) {
  std::string m;
  auto* n = b.node("ReduceMax", {reshape(b, x, {b.batch, h / 2, 2, w / 2, 2, c})}, m);
  GraphBuilder::ints(n, "axes", {2, 4});
  GraphBuilder::integer(n, "keepdims", 0);
  return reshape(b, m, {b.batch, (h / 2) * (w / 2), c});
}

std::string block(GraphBuilder& b, const std::string& x, const std::string& p, const BlockSpec& s) {
  const std::int64_t cin = s.get("cin"), c = s.get("c"), h = s.get("h"), w = s.get("w");
  const std::int64_t heads = s.get("heads"), hd = c / heads, mu = s.get("mu");
  const bool qpool = s.get("qpool") == 1;
  const std::int64_t q = qpool ? 2 : 1;
  const std::string xn = layer_norm(b, x, p + "norm1", cin, kEps, 3);
  std::string shortcut = cin != c ? linear(b, xn, p + "proj", cin, c) : x;
  if (qpool) shortcut = max_pool_tokens(b, shortcut, c, h, w);
  // Windows of sy x sx tokens (one global window when mu = 0), wy x wx of them.
  const std::int64_t sy = mu ? mu : h, sx = mu ? mu : w, wy = h / sy, wx = w / sx;
  const std::int64_t groups = b.batch * wy * wx;  // (batch, window) pairs
  // qkv (B, H*W, 3C), channels [q | k | v] with head j at j*hd -> (3, B, wy, wx, heads, sy, sx,
  // hd).
  std::string qkv = reshape(b, linear(b, xn, p + "attn.qkv", cin, 3 * c),
                            {b.batch, wy, sy, wx, sx, 3, heads, hd});
  qkv = transpose(b, qkv, {5, 0, 1, 3, 6, 2, 4, 7});
  const auto parts = split(b, qkv, 0, {1, 1, 1});
  const std::string& qs = parts[0];
  const std::int64_t qy = sy / q, qx = sx / q;
  std::string query;
  if (qpool) {
    auto* n = b.node("ReduceMax", {reshape(b, qs, {groups * heads, qy, 2, qx, 2, hd})}, query);
    GraphBuilder::ints(n, "axes", {2, 4});
    GraphBuilder::integer(n, "keepdims", 0);
    query = reshape(b, query, {groups, heads, qy * qx, hd});
  } else {
    query = reshape(b, qs, {groups, heads, qy * qx, hd});
  }
  const std::string key = reshape(b, parts[1], {groups, heads, sy * sx, hd});
  const std::string value = reshape(b, parts[2], {groups, heads, sy * sx, hd});
  // The code scales q before the product.
  const std::string scaled =
      b.op("Mul", {query, b.const_floats({1}, {1.0f / std::sqrt(float(hd))})});
  const std::string attn = softmax(b, b.op("MatMul", {scaled, transpose(b, key, {0, 1, 3, 2})}));
  // (groups, heads, qy*qx, hd) -> (B, wy, wx, heads, qy, qx, hd) -> (B, wy, qy, wx, qx, heads, hd).
  std::string o = reshape(b, b.op("MatMul", {attn, value}), {b.batch, wy, wx, heads, qy, qx, hd});
  o = reshape(b, transpose(b, o, {0, 1, 4, 2, 5, 3, 6}), {b.batch, (h / q) * (w / q), c});
  const std::string y = b.op("Add", {shortcut, linear(b, o, p + "attn.proj", c, c)});
  const std::int64_t hid = c * s.get("mlp");
  const std::string m =
      gelu(b, linear(b, layer_norm(b, y, p + "norm2", c, kEps, 3), p + "mlp.fc1", c, hid));
  return b.op("Add", {y, linear(b, m, p + "mlp.fc2", hid, c)});
}

std::string head(GraphBuilder& b, const std::string& x, const BlockSpec& s) {
  const std::int64_t c = s.get("c"), classes = s.get("classes");
  const std::string pooled = layer_norm(b, reduce_mean(b, x, {1}, false), "norm", c, kEps, 2);
  return classifier(b, pooled, "head.projection", c, classes);
}

}  // namespace

std::string lower_hiera(GraphBuilder& b, const BlockSpec& s, const std::string& p,
                        const std::string& x) {
  switch (s.kind) {
    case BlockKind::hiera_patch_embed:
      return patch_embed(b, x, s);
    case BlockKind::hiera_block:
      return block(b, x, p, s);
    case BlockKind::hiera_head:
      return head(b, x, s);
    case BlockKind::stem:
    case BlockKind::meta4d:
    case BlockKind::downsample:
    case BlockKind::flatten:
    case BlockKind::meta3d:
    case BlockKind::head:
    case BlockKind::evit_first_conv:
    case BlockKind::evit_mbconv:
    case BlockKind::evit_attention:
    case BlockKind::evit_ffn:
    case BlockKind::evit_head:
      return "";  // another family's kind
  }
  return "";  // a value outside the enumeration
}

}  // namespace hwnas::onnx_export
