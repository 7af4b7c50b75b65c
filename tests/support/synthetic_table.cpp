#include "tests/support/synthetic_table.h"

#include <vector>

#include "profilers/device_profile.h"
#include "profilers/latency_table.h"
#include "spaces/registry.h"

namespace hwnas::test {

void write_synthetic_table(const std::string& path, const std::string& device,
                           const std::string& space, int resolution) {
  LatencyTable table(path, LatencyTable::Mode::read_write);
  table.ensure_device(host_device_profile(device, 1));
  const auto run = table.begin_run(device, "test", TimingConfig{});
  std::vector<LatencyRow> rows;
  for (const auto& b : get_space(space).enumerate_blocks(resolution)) {
    LatencyRow r;
    r.key = b.key();
    r.stats.median_ms = r.stats.p10_ms = r.stats.p90_ms = r.stats.mean_ms = r.stats.min_ms =
        0.01 + static_cast<double>(block_cost(b).macs) * 2e-9;
    r.stats.repeats = 1;
    rows.push_back(r);
  }
  table.insert(device, run, rows);
}

}  // namespace hwnas::test
