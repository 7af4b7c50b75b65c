#include "spaces/registry.h"

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>

#include "core/error.h"
#include "spaces/efficientformer_space.h"
#include "spaces/elasticvit_space.h"
#include "spaces/turbovit_space.h"

namespace hwnas {
namespace {

using Factory = std::function<std::unique_ptr<SearchSpace>()>;

// One entry per space; a new space adds one line here and its definition under defs/.
const std::map<std::string, Factory, std::less<>>& factories() {
  static const std::map<std::string, Factory, std::less<>> table = {
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

}  // namespace

std::vector<std::string> space_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories()) names.push_back(name);
  return names;
}

const SearchSpace& get_space(std::string_view name) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<SearchSpace>, std::less<>> instances;
  std::lock_guard lock(mutex);
  if (auto it = instances.find(name); it != instances.end()) return *it->second;
  const auto f = factories().find(name);
  if (f == factories().end()) {
    std::string known;
    for (const auto& n : space_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown search space '" + std::string(name) + "'; known spaces: " + known +
                " (see `hwnas spaces`)");
  }
  return *instances.emplace(std::string(name), f->second()).first->second;
}

}  // namespace hwnas
