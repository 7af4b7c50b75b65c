// Maps a search-space name to its implementation.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "spaces/search_space.h"

namespace hwnas {

/// Names of every registered space, sorted.
std::vector<std::string> space_names();

/// The space registered under `name` (one shared, immutable instance per name).
/// Throws hwnas::Error naming the unknown space and listing the known ones.
const SearchSpace& get_space(std::string_view name);

}  // namespace hwnas
