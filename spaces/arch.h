// Arch: a point of a search space (the genotype).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace hwnas {

/// One architecture: the space's name and one integer per choice dimension of
/// SearchSpace::dims(). Genes hold option *values* (e.g. a width of 96), not indices, so an
/// arch stays meaningful if a later version of the space adds options.
struct Arch {
  std::string space;
  std::vector<int> genes;

  bool operator==(const Arch&) const = default;
};

/// Hash consistent with operator== (for caches and de-duplication).
struct ArchHash {
  std::size_t operator()(const Arch& arch) const noexcept;
};

}  // namespace hwnas
