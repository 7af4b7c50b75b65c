#include "profilers/device_profile.h"

#include <fstream>
#include <thread>

#include "core/build_id.h"
#include "core/error.h"

namespace hwnas {
namespace {

std::string read_cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    const auto b = v.find_first_not_of(" \t");
    return b == std::string::npos ? "unknown" : v.substr(b);
  }
  return "unknown";
}

}  // namespace

std::string DeviceProfile::diff(const DeviceProfile& o) const {
  std::string out;
  auto add = [&](const char* field, const std::string& a, const std::string& b) {
    if (a == b) return;
    if (!out.empty()) out += "; ";
    out += std::string(field) + ": " + a + " vs " + b;
  };
  add("cpu_model", cpu_model, o.cpu_model);
  add("logical_cores", std::to_string(logical_cores), std::to_string(o.logical_cores));
  add("threads", std::to_string(threads), std::to_string(o.threads));
  add("runtime", runtime, o.runtime);
  add("precision", precision, o.precision);
  add("batch", std::to_string(batch), std::to_string(o.batch));
  return out;
}

std::string engine_runtime_string() {
  return std::string("hwnas-engine ") + build_version() + " (git " + build_git_hash() + ")";
}

DeviceProfile host_device_profile(const std::string& name, int threads, int batch,
                                  const std::string& precision) {
  if (name.empty()) throw Error("device name must not be empty (use --device NAME)");
  if (threads < 1) throw Error("--threads must be >= 1, got " + std::to_string(threads));
  if (batch < 1) throw Error("batch size must be >= 1, got " + std::to_string(batch));
  DeviceProfile p;
  p.name = name;
  p.cpu_model = read_cpu_model();
  p.logical_cores = static_cast<int>(std::thread::hardware_concurrency());
  p.threads = threads;
  p.runtime = engine_runtime_string();
  p.precision = precision;
  p.batch = batch;
  return p;
}

nlohmann::json device_profile_to_json(const DeviceProfile& p) {
  return {{"name", p.name},       {"cpu_model", p.cpu_model}, {"logical_cores", p.logical_cores},
          {"threads", p.threads}, {"runtime", p.runtime},     {"precision", p.precision},
          {"batch", p.batch}};
}

DeviceProfile device_profile_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error("device profile: expected a JSON object");
  auto str = [&](const char* k) {
    if (!j.contains(k) || !j[k].is_string())
      throw Error(std::string("device profile: field '") + k + "' missing or not a string");
    return j[k].get<std::string>();
  };
  auto num = [&](const char* k) {
    if (!j.contains(k) || !j[k].is_number_integer())
      throw Error(std::string("device profile: field '") + k + "' missing or not an integer");
    return j[k].get<int>();
  };
  DeviceProfile p;
  p.name = str("name");
  p.cpu_model = str("cpu_model");
  p.logical_cores = num("logical_cores");
  p.threads = num("threads");
  p.runtime = str("runtime");
  p.precision = str("precision");
  p.batch = num("batch");
  return p;
}

}  // namespace hwnas
