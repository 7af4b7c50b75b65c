#include "spaces/search_space.h"

#include <algorithm>

#include <filesystem>

#include "core/error.h"
#include "core/json_util.h"

namespace hwnas {

Arch SearchSpace::mutate(const Arch& arch, Rng& rng, double prob) const {
  Arch out = arch;
  const auto& ds = dims();
  for (std::size_t i = 0; i < ds.size(); ++i) {
    const auto& opts = ds[i].options;
    if (opts.size() < 2 || uniform_real(rng) >= prob) continue;
    // Draw among the *other* options so that a mutation always changes the gene.
    const int cur = option_index(i, out.genes[i]);
    int pick = uniform_int(rng, 0, static_cast<int>(opts.size()) - 2);
    if (cur >= 0 && pick >= cur) ++pick;
    out.genes[i] = opts[static_cast<std::size_t>(pick)];
  }
  repair(out);
  return out;
}

Arch SearchSpace::crossover(const Arch& a, const Arch& b, Rng& rng) const {
  Arch out = a;
  for (std::size_t i = 0; i < out.genes.size(); ++i)
    if (rng() & 1u) out.genes[i] = b.genes.at(i);
  repair(out);
  return out;
}

int SearchSpace::option_index(std::size_t dim, int value) const {
  const auto& opts = dims().at(dim).options;
  for (std::size_t i = 0; i < opts.size(); ++i)
    if (opts[i] == value) return static_cast<int>(i);
  return -1;
}

std::string SearchSpace::member_name(const Arch& arch) const {
  for (const auto& [member, a] : named())
    if (a == arch) return member;
  return "";
}

Arch SearchSpace::resolve(std::string_view spec) const {
  for (const auto& [member, a] : named())
    if (member == spec) return a;
  const std::string text(spec);
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{')
    return from_json(parse_json_text(text, "inline --arch JSON"));
  std::error_code ec;
  const bool looks_like_path =
      text.find('/') != std::string::npos || (text.size() > 5 && text.ends_with(".json"));
  if (std::filesystem::is_regular_file(text, ec) || looks_like_path)
    return from_json(read_json_file(text));
  std::string members;
  for (const auto& [member, a] : named()) members += (members.empty() ? "" : ", ") + member;
  throw Error("unknown arch '" + text + "' for space '" + name() + "': give a named member (" +
              members + "), inline JSON ('{...}') or the path of an arch JSON file");
}

std::vector<int> space_resolutions(const SearchSpace& space) {
  for (const auto& d : space.dims())
    if (d.name == "resolution") return d.options;
  return {224};
}

int default_resolution(const SearchSpace& space) {
  const std::vector<int> r = space_resolutions(space);
  return std::find(r.begin(), r.end(), 224) != r.end() ? 224 : r.front();
}

}  // namespace hwnas
