#include "spaces/block_kind_registry.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <mutex>
#include <set>

#include "core/error.h"

namespace hwnas {
namespace {

// A deque keeps each definition at one address while later ones are added, so the string_views
// block_spec.cpp hands out stay valid.
struct Entry {
  BlockKindDef def;
  std::vector<std::string_view> attr_views;     // into def.attrs, for block_attr_names
  std::vector<std::string_view> variant_views;  // into def.variant_attrs
};

struct Registry {
  std::mutex mutex;
  std::deque<Entry> defs;
};

Registry& registry() {
  static Registry r;
  return r;
}

constexpr std::size_t kMaxKinds = std::size_t{std::numeric_limits<std::uint8_t>::max()} + 1;

}  // namespace

BlockKind register_block_kind(BlockKindDef def) {
  if (def.name.empty() || def.family.empty())
    throw Error("register_block_kind: a kind needs a name and a family");
  if (!def.input_shape || !def.output_shape || !def.cost)
    throw Error("register_block_kind: kind '" + def.name +
                "' needs input_shape, output_shape and cost functions");
  std::set<std::string> seen;
  for (const auto& a : def.attrs)
    if (a.empty() || !seen.insert(a).second)
      throw Error("register_block_kind: kind '" + def.name +
                  "' has an empty or repeated attribute '" + a + "'");
  // Variant names list the attributes in key order (block_variant), so two kinds' variant
  // names compare by their attributes' positions alone.
  auto next = def.attrs.begin();
  for (const auto& a : def.variant_attrs) {
    if (!seen.count(a))
      throw Error("register_block_kind: kind '" + def.name + "': variant attribute '" + a +
                  "' is not one of its attributes");
    const auto at = std::find(next, def.attrs.end(), a);
    if (at == def.attrs.end())
      throw Error("register_block_kind: kind '" + def.name + "': variant attribute '" + a +
                  "' repeats or is out of key order; list the variant attributes in the order "
                  "of attrs");
    next = at + 1;
  }
  for (std::size_t i = 0; i < kBlockKindCount; ++i)
    if (block_kind_name(static_cast<BlockKind>(i)) == def.name)
      throw Error("register_block_kind: '" + def.name + "' is a built-in block kind");
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (const auto& e : r.defs)
    if (e.def.name == def.name)
      throw Error("register_block_kind: block kind '" + def.name + "' is already registered");
  if (kBlockKindCount + r.defs.size() >= kMaxKinds)
    throw Error("register_block_kind: all " + std::to_string(kMaxKinds) +
                " block kind values are taken; '" + def.name + "' cannot be added");
  Entry& e = r.defs.emplace_back(Entry{std::move(def), {}, {}});
  for (const auto& a : e.def.attrs) e.attr_views.emplace_back(a);
  for (const auto& a : e.def.variant_attrs) e.variant_views.emplace_back(a);
  return static_cast<BlockKind>(kBlockKindCount + r.defs.size() - 1);
}

bool is_registered_block_kind(BlockKind kind) {
  return static_cast<std::size_t>(kind) >= kBlockKindCount;
}

namespace {

const Entry& entry(BlockKind kind) {
  const std::size_t i = static_cast<std::size_t>(kind) - kBlockKindCount;
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  if (static_cast<std::size_t>(kind) < kBlockKindCount || i >= r.defs.size())
    throw Error("block kind value " + std::to_string(static_cast<int>(kind)) +
                " is not a registered kind (register_block_kind)");
  return r.defs[i];
}

}  // namespace

const BlockKindDef& registered_block_kind(BlockKind kind) { return entry(kind).def; }

const std::vector<std::string_view>& registered_block_attr_names(BlockKind kind) {
  return entry(kind).attr_views;
}

const std::vector<std::string_view>& registered_block_variant_attrs(BlockKind kind) {
  return entry(kind).variant_views;
}

bool find_registered_block_kind(std::string_view name, BlockKind* kind) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (std::size_t i = 0; i < r.defs.size(); ++i)
    if (r.defs[i].def.name == name) {
      *kind = static_cast<BlockKind>(kBlockKindCount + i);
      return true;
    }
  return false;
}

std::vector<std::string> registered_block_kind_names() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> out;
  for (const auto& e : r.defs) out.push_back(e.def.name);
  return out;
}

}  // namespace hwnas
