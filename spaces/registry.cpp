#include "spaces/registry.h"

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>

#include "core/error.h"
#include "spaces/efficientformer_space.h"
#include "spaces/elasticvit_space.h"
#include "spaces/precision_genes.h"
#include "spaces/turbovit_space.h"

namespace hwnas {
namespace {

// One entry per built-in space; a new built-in space adds one line here and its definition
// under defs/. register_space adds to the same table.
std::map<std::string, SpaceFactory, std::less<>>& factories() {
  static std::map<std::string, SpaceFactory, std::less<>> table = {
      {"efficientformer", [] { return std::make_unique<EfficientFormerSpace>(); }},
      {"efficientformer-fmnist",
       [] { return std::make_unique<EfficientFormerSpace>("efficientformer-fmnist"); }},
      {"elasticvit", [] { return std::make_unique<ElasticVitSpace>(); }},
      {"elasticvit-fmnist", [] { return std::make_unique<ElasticVitSpace>("elasticvit-fmnist"); }},
      {"turbovit", [] { return std::make_unique<TurboVitSpace>(); }},
      {"turbovit-fmnist", [] { return std::make_unique<TurboVitSpace>("turbovit-fmnist"); }},
  };
  return table;
}

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

void register_space(std::string name, SpaceFactory factory) {
  if (name.empty() || !factory) throw Error("register_space: a space needs a name and a factory");
  std::lock_guard lock(registry_mutex());
  if (!factories().emplace(name, std::move(factory)).second)
    throw Error("register_space: search space '" + name + "' is already registered");
}

std::vector<std::string> space_names() {
  std::lock_guard lock(registry_mutex());
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories()) names.push_back(name);
  return names;
}

const SearchSpace& get_space(std::string_view name) {
  static std::map<std::string, std::unique_ptr<SearchSpace>, std::less<>> instances;
  SpaceFactory factory;
  {
    std::lock_guard lock(registry_mutex());
    if (auto it = instances.find(name); it != instances.end()) return *it->second;
    const auto f = factories().find(name);
    if (f == factories().end() && name.ends_with(kPrecisionGeneSuffix)) {
      // "<space>+precision": the registered space with per-stage precision genes.
      const std::string base(name.substr(0, name.size() - kPrecisionGeneSuffix.size()));
      factory = [base] { return make_precision_gene_space(get_space(base)); };
    } else if (f == factories().end()) {
      std::string known;
      for (const auto& [n, fn] : factories()) known += (known.empty() ? "" : ", ") + n;
      throw Error("unknown search space '" + std::string(name) + "'; known spaces: " + known +
                  " (see `hwnas spaces`)");
    }
    if (!factory) factory = f->second;
  }
  // Built outside the lock: a space's constructor may itself look up spaces or kinds.
  auto space = factory();
  if (!space || space->name() != name)
    throw Error("register_space: the factory of space '" + std::string(name) +
                "' built a space named '" + (space ? space->name() : std::string("(none)")) + "'");
  std::lock_guard lock(registry_mutex());
  // Two threads may both have built it; the first one stored wins.
  return *instances.emplace(std::string(name), std::move(space)).first->second;
}

}  // namespace hwnas
