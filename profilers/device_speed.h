// The device's speed at a given time, from a fixed reference network timed alongside the rows of
// a latency table and again when the table is validated (issue 15, step 4: the "duet"
// reference). A table built in a slow hour reads low against a quiet hour by the ratio of the two
// reference times; the ratio is reported as the drift since the table was built.
//
// Two references serve two purposes. EfficientFormer-L1 is the same network for every table, so
// its times compare across spaces and devices. The space's own reference, a typical subnet of the
// space at the table's resolution, follows what slows the space's own networks: on a 2-vCPU
// KVM guest, elasticvit-fmnist's 3 ms subnets ran 7-25 % slower than their table in a slow
// phase while L1 ran 2-6 % slower (bench/README.md, issue 15). Validation times the space's
// reference inside each group's windows and scales that group's predictions by it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluators/runtime/timing.h"
#include "profilers/backend.h"
#include "profilers/latency_table.h"
#include "spaces/network.h"
#include "spaces/search_space.h"

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

/// The space's own reference: a typical subnet of `space` at `resolution`. Of 15 subnets drawn
/// with seed 1 (sample_at_resolution), the one of median MACs, so that its size, cache footprint
/// and block mix are those of the networks validation draws. Deterministic; throws
/// hwnas::Error if the space rejects the resolution.
Arch space_reference_arch(const SearchSpace& space, int resolution);

/// The calibration key of the space's own reference: "space_reference:SPACE@RESOLUTION".
std::string space_reference_key(const std::string& space, int resolution);

/// The space's own reference at one resolution, as the profiler times it with the rows.
struct SpaceReference {
  std::string key;      ///< space_reference_key
  nlohmann::json arch;  ///< SearchSpace::to_json of space_reference_arch
  Network network;
};
/// space_reference_arch(space, resolution), decoded, with its key.
SpaceReference space_reference(const SearchSpace& space, int resolution);

/// The space's reference as stored with a table's rows.
struct StoredSpaceReference {
  Arch arch;
  double ms = 0;  ///< median over the windows timed with the rows (ms)
};

/// The space's own reference stored with `space`'s rows of `device` at `resolution`, or nullopt
/// (a table built before it existed, or by profile_archs). Throws hwnas::Error naming the table
/// and the fix when the stored value is damaged.
std::optional<StoredSpaceReference> stored_space_reference(const LatencyTable& table,
                                                           const std::string& device,
                                                           const SearchSpace& space,
                                                           int resolution);

/// The reference time stored with `space`'s rows of `device`, in ms, or nullopt (a table built
/// before issue 15, or by a backend that was not asked to). Throws hwnas::Error naming the table
/// when the stored value is damaged.
std::optional<double> stored_reference_ms(const LatencyTable& table, const std::string& device,
                                          const std::string& space);

}  // namespace hwnas
