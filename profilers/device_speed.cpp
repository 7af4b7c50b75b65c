#include "profilers/device_speed.h"

#include <algorithm>

#include "core/error.h"
#include "core/rng.h"
#include "profilers/profiler.h"
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

Arch space_reference_arch(const SearchSpace& space, int resolution) {
  // An odd count, so the median is one of the draws; 15 keeps the choice cheap and stable.
  constexpr int kDraws = 15;
  Rng rng(1);
  std::vector<std::pair<std::int64_t, Arch>> draws;
  for (int i = 0; i < kDraws; ++i) {
    Arch a = sample_at_resolution(space, rng, resolution);
    draws.emplace_back(space.decode(a).macs(), std::move(a));
  }
  // Ties in MACs are broken by the draw's genes, so the choice does not depend on the sort.
  std::sort(draws.begin(), draws.end(), [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first < y.first : x.second.genes < y.second.genes;
  });
  return draws[kDraws / 2].second;
}

std::string space_reference_key(const std::string& space, int resolution) {
  return "space_reference:" + space + "@" + std::to_string(resolution);
}

SpaceReference space_reference(const SearchSpace& space, int resolution) {
  const Arch a = space_reference_arch(space, resolution);
  return {space_reference_key(space.name(), resolution), space.to_json(a), space.decode(a)};
}

std::optional<StoredSpaceReference> stored_space_reference(const LatencyTable& table,
                                                           const std::string& device,
                                                           const SearchSpace& space,
                                                           int resolution) {
  const std::string key = space_reference_key(space.name(), resolution);
  const auto j = table.calibration(device, key);
  if (!j) return std::nullopt;
  try {
    if (j->is_object() && j->contains("ms") && j->at("ms").is_number() &&
        j->at("ms").get<double>() > 0 && j->contains("arch"))
      return StoredSpaceReference{space.from_json(j->at("arch")), j->at("ms").get<double>()};
  } catch (const Error&) {
    // An arch the space no longer accepts: damaged, as below.
  }
  throw Error("latency table " + table.path() + ": calibration '" + key + "' of device '" + device +
              "' is damaged; re-profile with `hwnas profile --space " + space.name() +
              " --resolution " + std::to_string(resolution) + " --force`");
}

}  // namespace hwnas
