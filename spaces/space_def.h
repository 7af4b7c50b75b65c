// SpaceDef: a search space's data (choices, constraints stated in words, named members),
// read strictly from spaces/defs/<name>.json (compiled into the binary).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "spaces/search_space.h"

namespace hwnas {

struct SpaceDef {
  std::string name;
  std::string summary;
  std::string source;
  std::vector<Dim> dims;                 ///< choice dimensions in gene order
  std::vector<std::string> constraints;  ///< joint constraints in words (the decoder enforces them)
  std::vector<int> resolution_allowed;   ///< resolutions accepted in arch JSON (may exceed dims)
  std::map<std::string, int> fixed;      ///< fixed integer hyper-parameters (heads, mlp ratio, ...)
  std::vector<std::pair<std::string, nlohmann::json>> named;  ///< member name -> arch JSON
  nlohmann::json published;  ///< published figures per member, for tests and reports
  nlohmann::json extra;      ///< space-specific data the decoder reads

  /// A fixed integer hyper-parameter; throws hwnas::Error naming the definition and key.
  int fixed_int(const std::string& key) const;
  /// Index of the dimension called `name`; throws hwnas::Error if absent.
  std::size_t dim_index(std::string_view name) const;
};

/// Parses a definition strictly: unknown keys, empty or unsorted choice lists, a dimension with
/// both or neither of "range"/"values" throw hwnas::Error naming `origin` and the field.
SpaceDef parse_space_def(const nlohmann::json& j, std::string_view origin);

/// The compiled-in definition of space `name`. Throws hwnas::Error if none is embedded.
SpaceDef embedded_space_def(std::string_view name);

}  // namespace hwnas
