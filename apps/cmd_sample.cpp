// `hwnas sample`: uniformly drawn architectures of a space, one JSON line each.
#include <iostream>

#include "apps/command.h"
#include "apps/common.h"
#include "spaces/error.h"

namespace hwnas::apps {
namespace {

class SampleCommand final : public Command {
 public:
  void setup(CLI::App& app) override {
    add_space_option(app, space_);
    app.add_option("--n", n_, "number of architectures")->capture_default_str();
    app.add_option("--seed", seed_, "random seed")->capture_default_str();
  }

  int run() override {
    if (n_ < 0) throw Error("--n must be >= 0, got " + std::to_string(n_));
    const SearchSpace& space = resolve_space(space_);
    Rng rng(seed_);
    for (long i = 0; i < n_; ++i) std::cout << space.to_json(space.sample(rng)).dump() << "\n";
    return 0;
  }

 private:
  std::string space_;
  long n_ = 10;
  std::uint64_t seed_ = 0;
};

HWNAS_REGISTER_COMMAND(SampleCommand, "sample", "Print N uniformly sampled architectures as JSON lines");

}  // namespace
}  // namespace hwnas::apps
