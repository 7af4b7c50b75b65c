// DeviceProfile: everything that conditions a latency figure (DESIGN.md "Measurement method").
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace hwnas {

/// What a latency was measured on. Two profiles that differ in any field are different devices:
/// a latency table keeps their rows apart and never mixes them in one query.
struct DeviceProfile {
  std::string name = "host";  ///< user-given label, the table's device key
  std::string cpu_model;      ///< "model name" of /proc/cpuinfo (or the agent's)
  int logical_cores = 0;      ///< online logical CPUs of the machine
  int threads = 1;            ///< worker threads the runtime used
  std::string runtime;        ///< e.g. "hwnas-engine 0.1.0 (git 1a2b3c4)"; the *build* part
  std::string precision = "fp32";
  int batch = 1;

  bool operator==(const DeviceProfile&) const = default;

  /// The fields that differ from `other`, as "field: a vs b; ..." ("" if equal, name ignored).
  std::string diff(const DeviceProfile& other) const;
};

/// Profile of this process's machine: CPU model from /proc/cpuinfo ("unknown" when absent),
/// std::thread::hardware_concurrency() cores, the given threads and batch, runtime
/// `engine_runtime_string()`. Throws hwnas::Error if threads < 1 or batch < 1.
DeviceProfile host_device_profile(const std::string& name, int threads, int batch = 1,
                                  const std::string& precision = "fp32");

/// "hwnas-engine <version> (git <hash>)" of this build: the runtime part of a DeviceProfile.
std::string engine_runtime_string();

/// JSON form {"name":..,"cpu_model":..,"logical_cores":..,"threads":..,"runtime":..,
/// "precision":..,"batch":..}. from_json is strict: a missing or mistyped field throws
/// hwnas::Error naming it.
nlohmann::json device_profile_to_json(const DeviceProfile& p);
DeviceProfile device_profile_from_json(const nlohmann::json& j);

}  // namespace hwnas
