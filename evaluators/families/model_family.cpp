#include "evaluators/families/model_family.h"

#include <deque>
#include <mutex>

#include "core/error.h"
#include "evaluators/families/builtin_families.h"

namespace hwnas {
namespace {

// The built-in records first, then the registered ones; a deque keeps each record at one
// address, so references handed out stay valid while families are added.
struct Registry {
  std::mutex mutex;
  std::deque<ModelFamily> families{efficientformer_family(), elasticvit_family(), hiera_family()};
};

Registry& registry() {
  static Registry r;
  return r;
}

std::string known_families(const Registry& r) {
  std::string known;
  for (const auto& f : r.families) known += (known.empty() ? "" : ", ") + f.name;
  return known;
}

}  // namespace

void register_model_family(ModelFamily family) {
  if (family.name.empty() || !family.make_block || !family.param_prefixes)
    throw Error("register_model_family: a family needs a name, make_block and param_prefixes");
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (const auto& f : r.families)
    if (f.name == family.name)
      throw Error("register_model_family: model family '" + family.name +
                  "' is already registered");
  r.families.push_back(std::move(family));
}

const ModelFamily& model_family(std::string_view name) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (const auto& f : r.families)
    if (f.name == name) return f;
  throw Error("unknown model family '" + std::string(name) + "' (known: " + known_families(r) +
              "); register it with register_model_family (EXTENDING.md)");
}

const ModelFamily& family_of(const Network& net) {
  if (net.blocks.empty()) throw Error("network of space '" + net.space + "' has no blocks");
  const std::string_view family = block_kind_family(net.blocks.front().kind);
  for (const auto& b : net.blocks)
    if (block_kind_family(b.kind) != family)
      throw Error("network of space '" + net.space + "' mixes model families: block '" + b.key() +
                  "' is " + std::string(block_kind_family(b.kind)) + ", not " +
                  std::string(family));
  return model_family(family);
}

std::vector<std::string> model_family_names() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> out;
  for (const auto& f : r.families) out.push_back(f.name);
  return out;
}

std::vector<std::string> param_prefixes(const Network& net) {
  const ModelFamily& family = family_of(net);
  std::vector<std::string> out = family.param_prefixes(net);
  if (out.size() != net.blocks.size())
    throw Error("model family '" + family.name + "' gave " + std::to_string(out.size()) +
                " parameter prefixes for a network of " + std::to_string(net.blocks.size()) +
                " blocks");
  return out;
}

}  // namespace hwnas
