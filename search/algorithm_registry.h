// Search algorithms by name, each with its traits: whether it stops by itself (so a budget is
// optional), whether the hypervolume's bounds pair may join its archive, and its own parameters
// with their defaults. The one place that builds algorithms: the run configuration
// (run_config.h) validates a run's parameters here, and `hwnas search` lists the names from it.
// Adding an algorithm: its class (search/<name>.{h,cpp}) and one entry in algorithm_registry.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "search/algorithm.h"
#include "search/problem.h"

namespace hwnas {

/// What every algorithm is built from: the settings all share, and its own parameters (a JSON
/// object with the keys of its AlgorithmTraits::params; missing keys take their defaults).
struct AlgorithmSetup {
  std::string name = "nsga2";   ///< a registered name or alias
  std::size_t population = 50;  ///< population / generation size
  std::uint64_t seed = 0;       ///< seeds the algorithm's own random stream
  nlohmann::json params = nlohmann::json::object();
};

struct AlgorithmTraits {
  std::string name;                  ///< canonical name, stored in runs ("nsga2")
  std::vector<std::string> aliases;  ///< also accepted on input ("regularized-evolution")
  std::string summary;               ///< one line for --help
  /// The algorithm ends by itself (slimming reaches its latency target): a run without an
  /// explicit budget gets none instead of the default 2000 evaluations.
  bool stops_by_itself = false;
  /// The smallest()/largest() pair evaluated for the hypervolume's bounds joins the archive
  /// (RunnerOptions::archive_bounds); false when every arch must lie in a region the pair may
  /// fall outside (the FLOPs window).
  bool archive_bounds = true;
  /// The algorithm's own parameters with their defaults; values given must have the same JSON
  /// type (any number for a number).
  nlohmann::json params = nlohmann::json::object();
  /// Builds it for `problem`; `setup.params` is complete (defaults filled) and type-checked.
  std::function<std::unique_ptr<Algorithm>(const AlgorithmSetup& setup, const Problem& problem)>
      make;
};

/// Every algorithm, in a fixed order: random, nsga2, evolution, generative, slimming,
/// flops-window-evolution.
const std::vector<AlgorithmTraits>& algorithm_registry();

/// The canonical names of algorithm_registry(), in its order.
std::vector<std::string> algorithm_names();

/// The traits of `name` or one of its aliases. Throws hwnas::Error on an unknown name, listing
/// the known ones.
const AlgorithmTraits& find_algorithm(const std::string& name);

/// `given` with the algorithm's defaults filled in. Throws hwnas::Error naming the algorithm and
/// its parameters on a key it does not have or a value of the wrong type.
nlohmann::json complete_algorithm_params(const AlgorithmTraits& traits,
                                         const nlohmann::json& given);

/// Builds the algorithm `setup.name` for `problem`. Throws hwnas::Error on an unknown name, bad
/// parameters, or a problem the algorithm does not suit (e.g. slimming without a latency
/// constraint).
std::unique_ptr<Algorithm> make_algorithm(const AlgorithmSetup& setup, const Problem& problem);

}  // namespace hwnas
