// The one random engine type of hwnas: every random choice takes a seed through it.
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace hwnas {

using Rng = std::mt19937_64;

/// Uniform integer in [lo, hi] (inclusive). Implemented by hand rather than with
/// std::uniform_int_distribution so that a seed gives the same stream on every standard library.
inline int uniform_int(Rng& rng, int lo, int hi) {
  const std::uint64_t span = static_cast<std::uint64_t>(hi - lo) + 1;
  // Rejection keeps the draw unbiased.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  std::uint64_t x;
  do x = rng();
  while (x >= limit);
  return lo + static_cast<int>(x % span);
}

/// Uniform double in [0, 1), 53 random bits.
inline double uniform_real(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

/// A uniformly random order of 0..n-1 (Fisher-Yates over uniform_int, so a seed gives the same
/// order on every standard library, unlike std::shuffle). n < 2^31.
inline std::vector<std::size_t> random_permutation(std::size_t n, Rng& rng) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  for (std::size_t i = n; i > 1; --i)
    std::swap(order[i - 1],
              order[static_cast<std::size_t>(uniform_int(rng, 0, static_cast<int>(i - 1)))]);
  return order;
}

}  // namespace hwnas
