// Maps a search-space name to its implementation: the spaces compiled in, and those a model
// family registers at run time (register_space; see EXTENDING.md, "Adding a model family").
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "spaces/search_space.h"

namespace hwnas {

/// Builds a space; called once, on the first get_space of its name.
using SpaceFactory = std::function<std::unique_ptr<SearchSpace>()>;

/// Adds a space under `name` (what --space and Arch::space use). Thread-safe. Throws
/// hwnas::Error if `name` is empty or taken, or `factory` is empty. The factory's space must
/// report name() == `name` (get_space checks it).
void register_space(std::string name, SpaceFactory factory);

/// Names of every registered space, sorted.
std::vector<std::string> space_names();

/// The space registered under `name` (one shared, immutable instance per name).
/// Throws hwnas::Error naming the unknown space and listing the known ones.
const SearchSpace& get_space(std::string_view name);

}  // namespace hwnas
