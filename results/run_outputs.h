// A run's device and latency table as its reports read them (search and export).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "predictors/latency_predictor.h"

namespace hwnas {

/// The DeviceProfile stored under `device` in table `db` as JSON, or {"name": device, "note":
/// why it is unavailable} when the table cannot be read (a report still gets written).
nlohmann::json device_json(const std::string& db, const std::string& device);

/// The run's lookup-table predictor, or null when the table cannot be opened (reference models
/// are then left out of the plot).
std::unique_ptr<LatencyPredictor> try_open_table(const std::string& db, const std::string& device);

}  // namespace hwnas
