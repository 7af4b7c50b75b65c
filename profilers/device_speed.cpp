#include "profilers/device_speed.h"

#include "core/error.h"
#include "spaces/registry.h"

namespace hwnas {

Network reference_network() {
  const SearchSpace& ef = get_space("efficientformer");
  return ef.decode(ef.resolve("l1"));
}

std::string reference_network_name() { return "efficientformer:l1@224"; }

TimingConfig reference_timing() {
  TimingConfig t;
  t.warmup = 2;
  t.min_repeats = 5;
  t.min_time_ms = 50.0;
  t.max_repeats = 200;
  return t;
}

void ReferenceTimer::time_window() {
  window_ms_.push_back(backend_.measure_network(reference_network(), reference_timing()).median_ms);
}

double ReferenceTimer::median_ms() const {
  if (window_ms_.empty()) throw Error("reference network: no window timed");
  return summarize_ms(window_ms_).median_ms;
}

nlohmann::json ReferenceTimer::to_json() const {
  return {{"network", reference_network_name()}, {"ms", median_ms()}, {"window_ms", window_ms_}};
}

std::optional<double> stored_reference_ms(const LatencyTable& table, const std::string& device,
                                          const std::string& space) {
  const auto j = table.calibration(device, "reference:" + space);
  if (!j) return std::nullopt;
  if (j->is_object() && j->contains("ms") && j->at("ms").is_number() &&
      j->at("ms").get<double>() > 0 && j->contains("network") &&
      j->at("network") == reference_network_name())
    return j->at("ms").get<double>();
  throw Error("latency table " + table.path() + ": calibration 'reference:" + space +
              "' of device '" + device + "' is damaged; re-profile with `hwnas profile --space " +
              space + " --force`");
}

}  // namespace hwnas
