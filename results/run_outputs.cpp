#include "results/run_outputs.h"

#include "core/error.h"
#include "predictors/lut_latency_predictor.h"
#include "profilers/device_profile.h"
#include "profilers/latency_table.h"

namespace hwnas {

nlohmann::json device_json(const std::string& db, const std::string& device) {
  try {
    LatencyTable table(db, LatencyTable::Mode::read_only);
    if (const auto p = table.find_device(device)) {
      nlohmann::json j = device_profile_to_json(*p);
      j["table"] = db;
      return j;
    }
    return {{"name", device}, {"table", db}, {"note", "no such device in the table"}};
  } catch (const Error& e) {
    return {{"name", device}, {"table", db}, {"note", e.what()}};
  }
}

std::unique_ptr<LatencyPredictor> try_open_table(const std::string& db, const std::string& device) {
  try {
    return LutLatencyPredictor::open(db, device);
  } catch (const Error&) {
    return nullptr;
  }
}

}  // namespace hwnas
