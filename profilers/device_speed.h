// The device's speed at a given time, from a fixed reference network timed alongside the rows of
// a latency table and again when the table is validated (issue 15, step 4: the "duet"
// reference). A table built in a slow hour reads low against a quiet hour by the ratio of the two
// reference times; the ratio is reported as the drift since the table was built.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluators/runtime/timing.h"
#include "profilers/backend.h"
#include "profilers/latency_table.h"
#include "spaces/network.h"

namespace hwnas {

/// The reference: EfficientFormer-L1 at 224 (Li et al., NeurIPS 2022; 1.3 GMACs), the same
/// network on every device and for every space, so that its times compare across tables.
Network reference_network();
/// "efficientformer:l1@224", as stored.
std::string reference_network_name();

/// Short timing of one reference window: a few forwards, about 0.1 s on 2 threads.
TimingConfig reference_timing();

/// Times the reference on a backend once per call of `time_window`, between the caller's own
/// windows, and summarises the windows. Not thread-safe.
class ReferenceTimer {
 public:
  explicit ReferenceTimer(Backend& backend) : backend_(backend) {}
  /// Times one window (Backend::measure_network with reference_timing()). Throws what the
  /// backend throws.
  void time_window();
  /// Medians of the windows so far (ms).
  const std::vector<double>& window_ms() const { return window_ms_; }
  /// The median of the window medians (ms); throws hwnas::Error if no window was timed.
  double median_ms() const;
  /// {"network","ms","window_ms":[..]}: stored as calibration "reference:SPACE".
  nlohmann::json to_json() const;

 private:
  Backend& backend_;
  std::vector<double> window_ms_;
};

/// The reference time stored with `space`'s rows of `device`, in ms, or nullopt (a table built
/// before issue 15, or by a backend that was not asked to). Throws hwnas::Error naming the table
/// when the stored value is damaged.
std::optional<double> stored_reference_ms(const LatencyTable& table, const std::string& device,
                                          const std::string& space);

}  // namespace hwnas
