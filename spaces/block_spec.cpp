#include "spaces/block_spec.h"

#include <charconv>
#include <functional>
#include <string>

#include "spaces/error.h"

namespace hwnas {
namespace {

struct KindInfo {
  std::string_view name;
  std::vector<std::string_view> attrs;
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
#define HWNAS_BLOCK_KIND(name, attrs) {#name, split_attrs(attrs)},
#include "spaces/block_kind.def"
#undef HWNAS_BLOCK_KIND
  };
  return table;
}

const KindInfo& info(BlockKind kind) { return kinds().at(static_cast<std::size_t>(kind)); }

int ceil_half(int x) { return (x + 1) / 2; }

// Output size of a 3x3, stride-2, pad-1 convolution.
int conv3x3_s2(int x) { return ceil_half(x); }

}  // namespace

std::string_view block_kind_name(BlockKind kind) { return info(kind).name; }

BlockKind block_kind_from_name(std::string_view name) {
  const auto& table = kinds();
  for (std::size_t i = 0; i < table.size(); ++i)
    if (table[i].name == name) return static_cast<BlockKind>(i);
  std::string known;
  for (const auto& k : table) known += (known.empty() ? "" : ", ") + std::string(k.name);
  throw Error("unknown block kind '" + std::string(name) + "'; known kinds: " + known);
}

const std::vector<std::string_view>& block_attr_names(BlockKind kind) { return info(kind).attrs; }

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
  }
  throw Error("block_input_shape: unhandled kind");
}

FeatureShape block_output_shape(const BlockSpec& s) {
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
  }
  throw Error("block_output_shape: unhandled kind");
}

BlockCost block_cost(const BlockSpec& s) {
  using i64 = std::int64_t;
  BlockCost cost;
  for (int v : s.attrs)
    if (v <= 0 && s.kind != BlockKind::head)
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
  }
  return cost;
}

}  // namespace hwnas
