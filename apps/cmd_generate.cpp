// `hwnas generate`: new architectures from the generator a generative search trained.
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>

#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "apps/common.h"
#include "core/error.h"
#include "search/generative_search.h"
#include "spaces/registry.h"

namespace hwnas::apps {
namespace {

class GenerateCommand final : public Command {
 public:
  void setup(CLI::App& app) override {
    app.description(
        "Draw architectures (JSON lines) from the generator saved by "
        "`hwnas search --algorithm generative --out DIR`");
    app.add_option("--run", run_, "run directory holding generator.json")->required();
    app.add_option("--n", n_, "number of architectures")->capture_default_str();
    app.add_option("--seed", seed_, "random seed")->capture_default_str();
    app.add_option("--budget", budget_,
                   "draw from the generator level trained for this budget of the condition "
                   "objective (e.g. latency in ms); default: the run's own budget (top level)");
  }

  int run() override {
    if (n_ < 0) throw Error("--n must be >= 0, got " + std::to_string(n_));
    const std::string path = run_ + "/generator.json";
    std::ifstream in(path);
    if (!in)
      throw Error("no generator in '" + run_ +
                  "' (missing generator.json): run `hwnas search "
                  "--algorithm generative --out " +
                  run_ + "` first");
    const auto saved = nlohmann::json::parse(in, nullptr, false);
    if (saved.is_discarded()) throw Error("'" + path + "' is not valid JSON");
    std::string space_name;
    try {
      space_name = saved.at("levels").at(0).at("generator").at("space").get<std::string>();
    } catch (const nlohmann::json::exception&) {
      throw Error("'" + path + "' is not a generator saved by hwnas search");
    }
    const SearchSpace& space = get_space(space_name);
    const double budget = budget_ ? *budget_ : std::numeric_limits<double>::quiet_NaN();
    for (const auto& a :
         sample_from_saved_generator(space, saved, static_cast<std::size_t>(n_), seed_, budget))
      std::cout << space.to_json(a).dump() << "\n";
    return 0;
  }

 private:
  std::string run_;
  long n_ = 10;
  std::uint64_t seed_ = 0;
  std::optional<double> budget_;
};

HWNAS_REGISTER_COMMAND(GenerateCommand, "generate",
                       "Draw architectures from a generative search's trained generator");

}  // namespace
}  // namespace hwnas::apps
