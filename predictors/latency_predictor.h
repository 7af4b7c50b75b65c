// LatencyPredictor: the interface search uses to read a network's latency on a device.
#pragma once

#include <string>

#include "spaces/network.h"

namespace hwnas {

/// Predicts end-to-end latency of a whole network on one device, in milliseconds.
/// Implementations are thread-safe for concurrent predict_ms calls.
class LatencyPredictor {
 public:
  virtual ~LatencyPredictor() = default;
  /// Latency in ms of one inference of `net` at the device's batch size. Throws hwnas::Error
  /// when the prediction needs data that is missing (e.g. a latency-table row), naming it.
  virtual double predict_ms(const Network& net) const = 0;
  /// Human-readable name of the device/table the prediction comes from.
  virtual std::string source() const = 0;
};

}  // namespace hwnas
