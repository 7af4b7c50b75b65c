#include "spaces/space_def.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/json_util.h"

namespace hwnas {

// Generated from spaces/defs/*.json by spaces/CMakeLists.txt.
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_space_defs();

namespace {

// More options than any published space has per dimension by two orders of magnitude.
constexpr std::int64_t kMaxDimensionOptions = 4096;

std::vector<int> parse_choices(const nlohmann::json& j, const std::string& what) {
  require_only_keys(j, {"name", "range", "values", "why"}, what);
  const bool has_range = j.contains("range"), has_values = j.contains("values");
  if (has_range == has_values) throw Error(what + ": give exactly one of \"range\" or \"values\"");
  std::vector<int> options;
  if (has_range) {
    const auto r = require_int_array(j.at("range"), 3, what + ".range [min, max, step]");
    if (r[2] <= 0 || r[1] < r[0]) throw Error(what + ".range needs min <= max and step > 0");
    // Counted in 64 bits before anything is built: a range of millions of options (found by
    // fuzzing: [1666, 666666632, 8] took 3.6 s) or one that steps past INT_MAX is a mistake.
    const std::int64_t count = (std::int64_t{r[1]} - r[0]) / r[2] + 1;
    if (count > kMaxDimensionOptions)
      throw Error(what + ".range gives " + std::to_string(count) +
                  " options; a dimension may have " + "at most " +
                  std::to_string(kMaxDimensionOptions));
    for (std::int64_t i = 0; i < count; ++i)
      options.push_back(static_cast<int>(r[0] + i * std::int64_t{r[2]}));
  } else {
    options = require_int_array(j.at("values"), -1, what + ".values");
  }
  if (options.empty()) throw Error(what + " has no options");
  if (!std::is_sorted(options.begin(), options.end()) ||
      std::adjacent_find(options.begin(), options.end()) != options.end())
    throw Error(what + " options must be strictly increasing");
  return options;
}

}  // namespace

int SpaceDef::fixed_int(const std::string& key) const {
  const auto it = fixed.find(key);
  if (it == fixed.end())
    throw Error("space definition '" + name + "' has no fixed value '" + key + "'");
  return it->second;
}

std::size_t SpaceDef::dim_index(std::string_view dim) const {
  for (std::size_t i = 0; i < dims.size(); ++i)
    if (dims[i].name == dim) return i;
  throw Error("space definition '" + name + "' has no dimension '" + std::string(dim) + "'");
}

SpaceDef parse_space_def(const nlohmann::json& j, std::string_view origin) {
  const std::string where = "space definition " + std::string(origin);
  require_only_keys(j,
                    {"name", "summary", "source", "dims", "constraints", "resolution_allowed",
                     "fixed", "named", "published", "extra", "notes"},
                    where);
  SpaceDef def;
  def.name = require_string(require_key(j, "name", where), where + ".name");
  def.summary = require_string(require_key(j, "summary", where), where + ".summary");
  if (j.contains("source")) def.source = require_string(j.at("source"), where + ".source");
  const auto& dims = require_key(j, "dims", where);
  if (!dims.is_array() || dims.empty()) throw Error(where + ".dims must be a non-empty array");
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const std::string what = where + ".dims[" + std::to_string(i) + "]";
    Dim d;
    d.name = require_string(require_key(dims[i], "name", what), what + ".name");
    d.options = parse_choices(dims[i], what);
    for (const auto& other : def.dims)
      if (other.name == d.name) throw Error(what + ": duplicate dimension '" + d.name + "'");
    def.dims.push_back(std::move(d));
  }
  if (j.contains("constraints"))
    for (const auto& c : j.at("constraints"))
      def.constraints.push_back(require_string(c, where + ".constraints"));
  if (j.contains("resolution_allowed"))
    def.resolution_allowed =
        parse_choices(j.at("resolution_allowed"), where + ".resolution_allowed");
  if (j.contains("fixed")) {
    if (!j.at("fixed").is_object()) throw Error(where + ".fixed must be an object");
    for (const auto& [k, v] : j.at("fixed").items())
      def.fixed[k] = require_int(v, where + ".fixed." + k);
  }
  if (j.contains("named")) {
    if (!j.at("named").is_object()) throw Error(where + ".named must be an object");
    for (const auto& [k, v] : j.at("named").items()) def.named.emplace_back(k, v);
  }
  if (j.contains("published")) def.published = j.at("published");
  if (j.contains("extra")) def.extra = j.at("extra");
  return def;
}

SpaceDef embedded_space_def(std::string_view name) {
  for (const auto& [def_name, text] : embedded_space_defs())
    if (def_name == name)
      return parse_space_def(parse_json_text(text, "spaces/defs/" + std::string(name) + ".json"),
                             "spaces/defs/" + std::string(name) + ".json");
  throw Error("no embedded definition for space '" + std::string(name) + "'");
}

}  // namespace hwnas
