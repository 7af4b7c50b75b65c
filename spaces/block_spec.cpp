#include "spaces/block_spec.h"

#include <charconv>
#include <functional>
#include <initializer_list>
#include <string>

#include "core/error.h"
#include "spaces/block_kind_registry.h"

namespace hwnas {
namespace {

struct KindInfo {
  std::string_view family;
  std::string_view name;
  std::vector<std::string_view> attrs;
  std::vector<std::string_view> variant;
};

std::vector<std::string_view> split_attrs(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    out.push_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

const std::vector<KindInfo>& kinds() {
  static const std::vector<KindInfo> table = {
#define HWNAS_BLOCK_KIND(family, name, attrs, variant) \
  {#family, #name, split_attrs(attrs), split_attrs(variant)},
#include "spaces/block_kind.def"
#undef HWNAS_BLOCK_KIND
  };
  return table;
}

const KindInfo& info(BlockKind kind) { return kinds().at(static_cast<std::size_t>(kind)); }

int ceil_half(int x) { return (x + 1) / 2; }

// Output size of a 3x3, stride-2, pad-1 convolution.
int conv3x3_s2(int x) { return ceil_half(x); }

// Output size of Hiera's 7x7, stride-4, pad-3 patch convolution.
int patch7_s4(int x) { return (x + 2 * 3 - 7) / 4 + 1; }

// Kinds with 0/1 flag attributes (se, qpool) or a 0 meaning "global" (mu): their cost functions
// check the attributes themselves.
bool has_flag_attrs(BlockKind kind) {
  return kind == BlockKind::evit_mbconv || kind == BlockKind::hiera_block;
}

void require_positive(const BlockSpec& s, std::initializer_list<std::string_view> attrs) {
  for (auto a : attrs)
    if (s.get(a) <= 0)
      throw Error("block '" + s.key() + "': attribute " + std::string(a) + " must be positive");
}

void require_flag(const BlockSpec& s, std::string_view attr) {
  const int v = s.get(attr);
  if (v != 0 && v != 1)
    throw Error("block '" + s.key() + "': attribute " + std::string(attr) + " must be 0 or 1");
}

// ElasticViT blocks, counted as microsoft/Moonlit's subnet holds them
// (golden/elasticvit_blocks.md): params are the sliced subnet tensors (BN affine counted, running
// stats not).
BlockCost elasticvit_block_cost(const BlockSpec& s) {
  using i64 = std::int64_t;
  BlockCost cost;
  switch (s.kind) {
    case BlockKind::evit_first_conv: {
      const i64 cin = s.get("cin"), c = s.get("c");
      const i64 ho = conv3x3_s2(s.get("h")), wo = conv3x3_s2(s.get("w"));
      cost.params = cin * 9 * c + 2 * c;
      cost.macs = ho * wo * c * cin * 9;
      break;
    }
    case BlockKind::evit_mbconv: {
      require_positive(s, {"cin", "c", "h", "w", "expand", "k", "stride"});
      require_flag(s, "se");
      if (s.get("k") % 2 == 0) throw Error("block '" + s.key() + "': kernel k must be odd");
      const i64 cin = s.get("cin"), c = s.get("c"), k = s.get("k"), st = s.get("stride");
      const i64 e = cin * s.get("expand"), er = e / 4;
      const i64 hi = s.get("h"), wi = s.get("w");
      const i64 ho = (hi + st - 1) / st, wo = (wi + st - 1) / st;
      if (s.get("expand") > 1) {  // the stem (expand 1) has no expansion conv at all
        cost.params += cin * e + 2 * e;
        cost.macs += hi * wi * cin * e;
      }
      cost.params += e * k * k + 2 * e;
      cost.macs += ho * wo * e * k * k;
      if (s.get("se")) {
        cost.params += e * er + er + er * e + e;
        cost.macs += 2 * e * er;
      }
      cost.params += e * c + 2 * c;
      cost.macs += ho * wo * e * c;
      if (cin != c) {  // 1x1 shortcut conv, no bias, no BN
        cost.params += cin * c;
        cost.macs += ho * wo * cin * c;
      }
      break;
    }
    case BlockKind::evit_attention: {
      const i64 c = s.get("c"), h = s.get("h"), w = s.get("w"), n = h * w;
      const i64 heads = s.get("heads");
      if (c % heads != 0) throw Error("block '" + s.key() + "': c must be a multiple of heads");
      const i64 kd = c / heads, dv = kd * s.get("v_scale"), vall = heads * dv;
      const i64 qkv = heads * (2 * kd + dv);
      // norm1 affine, qkv (no bias), depthwise 3x3 on V, relative-position table, proj.
      cost.params = 2 * c + c * qkv + vall * 9 + (2 * h - 1) * (2 * w - 1) * heads + vall * c + c;
      cost.macs = n * c * qkv + n * vall * 9 + heads * n * n * (kd + dv) + n * vall * c;
      break;
    }
    case BlockKind::evit_ffn: {
      const i64 c = s.get("c"), n = i64{s.get("h")} * s.get("w"), hid = c * s.get("mlp");
      cost.params = 2 * c + c * hid + hid + hid * c + c;
      cost.macs = 2 * n * c * hid;
      break;
    }
    case BlockKind::evit_head: {
      const i64 c = s.get("c"), n = i64{s.get("h")} * s.get("w"), mc = c * s.get("mul");
      const i64 feat = s.get("feat"), classes = s.get("classes");
      cost.params = c * mc + mc + 2 * mc + mc * feat + feat + feat * classes + classes;
      cost.macs = n * c * mc + mc * feat + feat * classes;
      break;
    }
    case BlockKind::stem:
    case BlockKind::meta4d:
    case BlockKind::downsample:
    case BlockKind::flatten:
    case BlockKind::meta3d:
    case BlockKind::head:
    case BlockKind::hiera_patch_embed:
    case BlockKind::hiera_block:
    case BlockKind::hiera_head:
      throw Error("elasticvit_block_cost: not an ElasticViT block: " + s.key());
  }
  return cost;
}

// Hiera blocks as timm's hiera.py holds them (golden/hiera_blocks.md).
BlockCost hiera_block_cost(const BlockSpec& s) {
  using i64 = std::int64_t;
  BlockCost cost;
  switch (s.kind) {
    case BlockKind::hiera_patch_embed: {
      const i64 cin = s.get("cin"), c = s.get("c");
      const i64 ho = patch7_s4(s.get("h")), wo = patch7_s4(s.get("w"));
      cost.params = cin * 49 * c + c + ho * wo * c;  // conv weight + bias + position embedding
      cost.macs = ho * wo * c * cin * 49;
      break;
    }
    case BlockKind::hiera_block: {
      require_positive(s, {"cin", "c", "h", "w", "heads", "mlp"});
      require_flag(s, "qpool");
      const i64 cin = s.get("cin"), c = s.get("c"), h = s.get("h"), w = s.get("w");
      const i64 mu = s.get("mu"), heads = s.get("heads"), hid = c * s.get("mlp");
      const bool qpool = s.get("qpool") == 1;
      if (c % heads != 0) throw Error("block '" + s.key() + "': c must be a multiple of heads");
      if (mu < 0 || (mu > 0 && (h % mu != 0 || w % mu != 0)))
        throw Error("block '" + s.key() + "': mask unit mu must divide h and w (0 = global)");
      if (qpool && (h % 2 != 0 || w % 2 != 0 || (mu > 0 && mu % 2 != 0)))
        throw Error("block '" + s.key() + "': q-pooling needs even h, w and mask unit");
      const i64 n = h * w, no = qpool ? n / 4 : n, keys = mu > 0 ? mu * mu : n;
      cost.params = 2 * cin + cin * 3 * c + 3 * c + c * c + c + 2 * c + c * hid + hid + hid * c + c;
      cost.macs = n * cin * 3 * c + 2 * no * keys * c + no * c * c + 2 * no * c * hid;
      if (cin != c) {  // shortcut Linear on the normalised input, before the pooling
        cost.params += cin * c + c;
        cost.macs += n * cin * c;
      }
      break;
    }
    case BlockKind::hiera_head: {
      const i64 c = s.get("c"), classes = s.get("classes");
      cost.params = 2 * c + c * classes + classes;
      cost.macs = c * classes;
      break;
    }
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
      throw Error("hiera_block_cost: not a Hiera block: " + s.key());
  }
  return cost;
}

}  // namespace

std::string_view block_kind_name(BlockKind kind) {
  if (is_registered_block_kind(kind)) return registered_block_kind(kind).name;
  return info(kind).name;
}

BlockKind block_kind_from_name(std::string_view name) {
  const auto& table = kinds();
  for (std::size_t i = 0; i < table.size(); ++i)
    if (table[i].name == name) return static_cast<BlockKind>(i);
  BlockKind registered{};
  if (find_registered_block_kind(name, &registered)) return registered;
  std::string known;
  for (const auto& k : table) known += (known.empty() ? "" : ", ") + std::string(k.name);
  for (const auto& k : registered_block_kind_names()) known += ", " + k;
  throw Error("unknown block kind '" + std::string(name) + "'; known kinds: " + known);
}

std::string_view block_kind_family(BlockKind kind) {
  if (is_registered_block_kind(kind)) return registered_block_kind(kind).family;
  return info(kind).family;
}

const std::vector<std::string_view>& block_attr_names(BlockKind kind) {
  if (is_registered_block_kind(kind)) return registered_block_attr_names(kind);
  return info(kind).attrs;
}

const std::vector<std::string_view>& block_variant_attrs(BlockKind kind) {
  if (is_registered_block_kind(kind)) return registered_block_variant_attrs(kind);
  return info(kind).variant;
}

std::string block_variant(const BlockSpec& spec) {
  std::string out(block_kind_name(spec.kind));
  char sep = ':';
  for (auto a : block_variant_attrs(spec.kind)) {
    out += sep;
    out += a;
    out += '=';
    out += std::to_string(spec.get(a));
    sep = ',';
  }
  return out;
}

BlockSpec BlockSpec::make(BlockKind kind, std::vector<int> attrs) {
  const auto& names = block_attr_names(kind);
  if (attrs.size() != names.size())
    throw Error("block '" + std::string(block_kind_name(kind)) + "' needs " +
                std::to_string(names.size()) + " attributes, got " + std::to_string(attrs.size()));
  for (std::size_t i = 0; i < attrs.size(); ++i)
    if (attrs[i] < 0)
      throw Error("block '" + std::string(block_kind_name(kind)) + "': attribute " +
                  std::string(names[i]) + " must be >= 0, got " + std::to_string(attrs[i]));
  return BlockSpec{kind, std::move(attrs)};
}

BlockSpec BlockSpec::parse(std::string_view key) {
  const auto colon = key.find(':');
  if (colon == std::string_view::npos)
    throw Error("block key '" + std::string(key) + "' has no ':' (expected kind:attr=value,...)");
  const BlockKind kind = block_kind_from_name(key.substr(0, colon));
  const auto& names = block_attr_names(kind);
  std::vector<int> values(names.size(), -1);
  std::string_view rest = key.substr(colon + 1);
  for (auto item : split_attrs(rest)) {
    const auto eq = item.find('=');
    if (eq == std::string_view::npos)
      throw Error("block key '" + std::string(key) + "': item '" + std::string(item) +
                  "' is not attr=value");
    const auto attr = item.substr(0, eq);
    const auto value = item.substr(eq + 1);
    std::size_t idx = names.size();
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == attr) idx = i;
    if (idx == names.size())
      throw Error("block key '" + std::string(key) + "': unknown attribute '" + std::string(attr) +
                  "' for kind " + std::string(block_kind_name(kind)));
    if (values[idx] != -1)
      throw Error("block key '" + std::string(key) + "': attribute '" + std::string(attr) +
                  "' given twice");
    int v = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || ptr != value.data() + value.size() || v < 0)
      throw Error("block key '" + std::string(key) + "': attribute '" + std::string(attr) +
                  "' needs a non-negative integer, got '" + std::string(value) + "'");
    values[idx] = v;
  }
  for (std::size_t i = 0; i < names.size(); ++i)
    if (values[i] == -1)
      throw Error("block key '" + std::string(key) + "': missing attribute '" +
                  std::string(names[i]) + "'");
  return BlockSpec{kind, std::move(values)};
}

std::string BlockSpec::key() const {
  const auto& names = block_attr_names(kind);
  std::string out(block_kind_name(kind));
  out += ':';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i];
    out += '=';
    out += std::to_string(attrs.at(i));
  }
  return out;
}

int BlockSpec::get(std::string_view attr) const {
  const auto& names = block_attr_names(kind);
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == attr) return attrs.at(i);
  throw Error("block kind '" + std::string(block_kind_name(kind)) + "' has no attribute '" +
              std::string(attr) + "'");
}

std::size_t BlockSpecHash::operator()(const BlockSpec& spec) const noexcept {
  // FNV-1a over the kind and the attribute values.
  std::uint64_t h = 1469598103934665603ull ^ static_cast<std::uint64_t>(spec.kind);
  for (int v : spec.attrs) {
    h ^= static_cast<std::uint64_t>(static_cast<std::uint32_t>(v));
    h *= 1099511628211ull;
  }
  return static_cast<std::size_t>(h);
}

FeatureShape block_input_shape(const BlockSpec& s) {
  if (is_registered_block_kind(s.kind)) return registered_block_kind(s.kind).input_shape(s);
  switch (s.kind) {
    case BlockKind::stem:
      return {s.get("h"), s.get("w"), s.get("cin")};
    case BlockKind::downsample:
      return {s.get("h"), s.get("w"), s.get("cin")};
    case BlockKind::meta4d:
    case BlockKind::flatten:
      return {s.get("h"), s.get("w"), s.get("c")};
    case BlockKind::meta3d:
      // Tokens of an h x w grid, seen as one row (see flatten).
      return {1, s.get("h") * s.get("w"), s.get("c")};
    case BlockKind::head:
      return {1, s.get("n"), s.get("c")};
    case BlockKind::evit_first_conv:
    case BlockKind::evit_mbconv:
    case BlockKind::hiera_patch_embed:
    case BlockKind::hiera_block:
      return {s.get("h"), s.get("w"), s.get("cin")};
    case BlockKind::evit_attention:
    case BlockKind::evit_ffn:
    case BlockKind::evit_head:
    case BlockKind::hiera_head:
      return {s.get("h"), s.get("w"), s.get("c")};
  }
  throw Error("block_input_shape: unhandled kind");
}

bool block_reads_network_input(BlockKind kind) {
  if (is_registered_block_kind(kind)) return registered_block_kind(kind).reads_network_input;
  switch (kind) {
    case BlockKind::stem:
    case BlockKind::evit_first_conv:
    case BlockKind::hiera_patch_embed:
      return true;
    case BlockKind::meta4d:
    case BlockKind::downsample:
    case BlockKind::flatten:
    case BlockKind::meta3d:
    case BlockKind::head:
    case BlockKind::evit_mbconv:
    case BlockKind::evit_attention:
    case BlockKind::evit_ffn:
    case BlockKind::evit_head:
    case BlockKind::hiera_block:
    case BlockKind::hiera_head:
      return false;
  }
  throw Error("block_reads_network_input: unhandled kind");
}

FeatureShape block_output_shape(const BlockSpec& s) {
  if (is_registered_block_kind(s.kind)) return registered_block_kind(s.kind).output_shape(s);
  switch (s.kind) {
    case BlockKind::stem:
      return {conv3x3_s2(conv3x3_s2(s.get("h"))), conv3x3_s2(conv3x3_s2(s.get("w"))), s.get("c")};
    case BlockKind::downsample:
      return {conv3x3_s2(s.get("h")), conv3x3_s2(s.get("w")), s.get("c")};
    case BlockKind::meta4d:
    case BlockKind::meta3d:
      return block_input_shape(s);
    case BlockKind::flatten:
      // Tokens keep NHWC memory order; the head sees them as a 1 x (h*w) row of tokens.
      return {1, s.get("h") * s.get("w"), s.get("c")};
    case BlockKind::head:
      return {1, 1, s.get("classes")};
    case BlockKind::evit_first_conv:
      return {conv3x3_s2(s.get("h")), conv3x3_s2(s.get("w")), s.get("c")};
    case BlockKind::evit_mbconv: {
      // Depthwise k x k with padding (k-1)/2: ceil(h / stride); the pooled shortcut agrees.
      const int st = s.get("stride");
      if (st <= 0) throw Error("block '" + s.key() + "': stride must be positive");
      return {(s.get("h") + st - 1) / st, (s.get("w") + st - 1) / st, s.get("c")};
    }
    case BlockKind::evit_attention:
    case BlockKind::evit_ffn:
      return block_input_shape(s);
    case BlockKind::evit_head:
    case BlockKind::hiera_head:
      return {1, 1, s.get("classes")};
    case BlockKind::hiera_patch_embed:
      return {patch7_s4(s.get("h")), patch7_s4(s.get("w")), s.get("c")};
    case BlockKind::hiera_block:
      return s.get("qpool") ? FeatureShape{s.get("h") / 2, s.get("w") / 2, s.get("c")}
                            : FeatureShape{s.get("h"), s.get("w"), s.get("c")};
  }
  throw Error("block_output_shape: unhandled kind");
}

BlockCost block_cost(const BlockSpec& s) {
  if (is_registered_block_kind(s.kind)) return registered_block_kind(s.kind).cost(s);
  using i64 = std::int64_t;
  BlockCost cost;
  for (int v : s.attrs)
    if (v <= 0 && s.kind != BlockKind::head && !has_flag_attrs(s.kind))
      throw Error("block '" + s.key() + "': every attribute must be positive");
  switch (s.kind) {
    case BlockKind::stem: {
      const i64 cin = s.get("cin"), c = s.get("c"), c1 = c / 2;
      const i64 h1 = conv3x3_s2(s.get("h")), w1 = conv3x3_s2(s.get("w"));
      const i64 h2 = conv3x3_s2(static_cast<int>(h1)), w2 = conv3x3_s2(static_cast<int>(w1));
      // Two conv3x3 with bias, each followed by BatchNorm (affine weight + bias).
      cost.params = cin * 9 * c1 + c1 + 2 * c1 + c1 * 9 * c + c + 2 * c;
      cost.macs = h1 * w1 * c1 * cin * 9 + h2 * w2 * c * c1 * 9;
      break;
    }
    case BlockKind::downsample: {
      const i64 cin = s.get("cin"), c = s.get("c");
      const i64 ho = conv3x3_s2(s.get("h")), wo = conv3x3_s2(s.get("w"));
      cost.params = cin * 9 * c + c + 2 * c;
      cost.macs = ho * wo * c * cin * 9;
      break;
    }
    case BlockKind::meta4d: {
      const i64 c = s.get("c"), hw = i64{s.get("h")} * s.get("w"), hid = c * s.get("mlp");
      // ls1, ls2; fc1 + BN(hid); fc2 + BN(c).
      cost.params = 2 * c + (c * hid + hid + 2 * hid) + (hid * c + c + 2 * c);
      cost.macs = 2 * hw * c * hid;
      break;
    }
    case BlockKind::flatten:
      break;
    case BlockKind::meta3d: {
      const i64 c = s.get("c"), n = i64{s.get("h")} * s.get("w"), heads = s.get("heads");
      const i64 kd = s.get("kd"), dv = kd * s.get("ar"), hid = c * s.get("mlp");
      const i64 qkv = heads * (2 * kd + dv);
      // LN1, qkv, proj, attention-bias table (one value per (|drow|,|dcol|) offset per head),
      // LN2, fc1, fc2, ls1, ls2.
      cost.params = 2 * c + (c * qkv + qkv) + (heads * dv * c + c) + heads * n + 2 * c +
                    (c * hid + hid) + (hid * c + c) + 2 * c;
      cost.macs = n * c * qkv + heads * n * n * (kd + dv) + n * heads * dv * c + 2 * n * c * hid;
      break;
    }
    case BlockKind::head: {
      const i64 c = s.get("c"), classes = s.get("classes"), heads = 1 + s.get("dist");
      cost.params = 2 * c + heads * (c * classes + classes);
      cost.macs = heads * c * classes;
      break;
    }
    case BlockKind::evit_first_conv:
    case BlockKind::evit_mbconv:
    case BlockKind::evit_attention:
    case BlockKind::evit_ffn:
    case BlockKind::evit_head:
      return elasticvit_block_cost(s);
    case BlockKind::hiera_patch_embed:
    case BlockKind::hiera_block:
    case BlockKind::hiera_head:
      return hiera_block_cost(s);
  }
  return cost;
}

}  // namespace hwnas
