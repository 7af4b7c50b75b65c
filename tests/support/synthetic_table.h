// A complete, synthetic latency table for CLI tests (no timing noise).
#pragma once

#include <string>

namespace hwnas::test {

/// Writes every block of `space` at `resolution` under device `device` into the table at
/// `path`, with median = 0.01 ms + 2 ms per GMAC of the block (hand-checkable sums).
void write_synthetic_table(const std::string& path, const std::string& device,
                           const std::string& space = "efficientformer", int resolution = 224);

}  // namespace hwnas::test
