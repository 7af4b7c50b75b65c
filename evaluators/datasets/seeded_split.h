// Seeded, platform-independent orderings for dataset splits (the Fashion-MNIST contract's rule,
// shared with the PyTorch trainer in tools/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hwnas {

/// Vigna's splitmix64 finaliser: z += 0x9E3779B97F4A7C15, then two xor-shift-multiply rounds
/// (https://prng.di.unimi.it/splitmix64.c). A bijection on uint64.
std::uint64_t splitmix64(std::uint64_t z);

/// Indices 0..n-1 sorted by key(i) = splitmix64(seed * 0x9E3779B97F4A7C15 + i) ascending (uint64
/// arithmetic mod 2^64; keys are distinct, so the order is total). The same on every platform.
std::vector<std::size_t> seeded_order(std::size_t n, std::uint64_t seed);

}  // namespace hwnas
