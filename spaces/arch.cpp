#include "spaces/arch.h"

#include <functional>

namespace hwnas {

std::size_t ArchHash::operator()(const Arch& arch) const noexcept {
  std::uint64_t h = std::hash<std::string>{}(arch.space);
  for (int g : arch.genes) {
    h ^= static_cast<std::uint64_t>(static_cast<std::uint32_t>(g)) + 0x9e3779b97f4a7c15ull +
         (h << 6) + (h >> 2);
  }
  return static_cast<std::size_t>(h);
}

}  // namespace hwnas
