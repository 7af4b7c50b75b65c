// Fuzz target: a latency-table file (SQLite) as `hwnas predict` and `hwnas search` open it:
// LatencyTable read-only, then LutLatencyPredictor::open for each device it lists (rows,
// overhead and correction calibrations) and a prediction from its first rows.
#include <cstdint>
#include <filesystem>

#include "core/error.h"
#include "predictors/lut_latency_predictor.h"
#include "profilers/latency_table.h"
#include "spaces/network.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = hwnas::fuzz::scratch_dir() + "/table.db";
  // A journal left by the previous input would be replayed into this one.
  for (const char* suffix : {"-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix);
  hwnas::fuzz::write_file("table.db", data, size);
  try {
    std::vector<std::string> names;
    {
      const hwnas::LatencyTable table(path, hwnas::LatencyTable::Mode::read_only);
      for (const auto& d : table.devices()) names.push_back(d.name);
    }
    for (std::size_t i = 0; i < names.size() && i < 2; ++i) {
      for (auto statistic : {hwnas::LatencyStatistic::median, hwnas::LatencyStatistic::p10}) {
        try {
          const auto lut = hwnas::LutLatencyPredictor::open(path, names[i], statistic);
          const hwnas::LatencyTable table(path, hwnas::LatencyTable::Mode::read_only);
          const auto rows = table.rows(names[i]);
          if (rows.empty()) continue;  // open() refuses a device without rows; never reached
          hwnas::Network net;
          net.space = "fuzz";
          net.blocks.push_back(hwnas::BlockSpec::parse(rows.front().key));
          net.input = hwnas::block_input_shape(net.blocks.front());
          (void)lut->predict_ms(net);
        } catch (const hwnas::Error&) {
        }
      }
    }
  } catch (const hwnas::Error&) {
  }
  return 0;
}
