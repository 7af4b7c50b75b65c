// `hwnas sample`: uniformly drawn architectures of a space, one JSON line each; or, with
// --sampler, the steps of ElasticViT's supernet-training samplers.
#include <iostream>

#include "apps/command.h"
#include "apps/common.h"
#include "core/error.h"
#include "spaces/elasticvit_sampler.h"
#include "spaces/registry.h"

namespace hwnas::apps {
namespace {

nlohmann::json subnet_json(const SearchSpace& space, const SampledSubnet& s) {
  return {{"arch", space.to_json(s.arch)}, {"reference_mflops", s.mflops}, {"draws", s.draws}};
}

class SampleCommand final : public Command {
 public:
  void setup(CLI::App& app) override {
    add_space_option(app, space_);
    app.add_option("--n", n_, "number of architectures (uniform sampling)")->capture_default_str();
    app.add_option("--seed", seed_, "random seed")->capture_default_str();
    app.add_option(
           "--sampler", sampler_,
           "uniform (default), or ElasticViT's supernet-training samplers (needs --space "
           "elasticvit): complexity-aware = FLOPs levels {100..500,700,900,1200} M, level "
           "index random walk by at most one per step, 3 subnets per step with reference "
           "MFLOPs in [T, T+20] by rejection sampling above the level's minimum arch, plus "
           "that minimum arch; performance-aware = the same walk with per-level memory "
           "banks and the width-over-depth preference. Without a trainer, "
           "performance-aware scores each subnet with a SYNTHETIC score (0.5*ln(MFLOPs/100) "
           "+ 0.2*u, u in [0,1) a hash of the arch and --seed), not a cross-entropy")
        ->check(CLI::IsMember({"uniform", "complexity-aware", "performance-aware"}))
        ->capture_default_str();
    app.add_option("--steps", steps_, "sampler steps (one JSON line each)")->capture_default_str();
    app.add_option("--steps-per-epoch", steps_per_epoch_,
                   "performance-aware: steps per training epoch, for the bank probability "
                   "p = 0.2 + 0.15 per 100 epochs")
        ->capture_default_str();
  }

  int run() override {
    const SearchSpace& space = get_space(space_);
    if (sampler_ == "uniform") {
      if (n_ < 0) throw Error("--n must be >= 0, got " + std::to_string(n_));
      Rng rng(seed_);
      for (long i = 0; i < n_; ++i) std::cout << space.to_json(space.sample(rng)).dump() << "\n";
      return 0;
    }
    const auto* evit = dynamic_cast<const ElasticVitSpace*>(&space);
    if (evit == nullptr)
      throw Error("--sampler " + sampler_ +
                  " is ElasticViT's supernet sampler: use --space elasticvit (got '" + space_ +
                  "')");
    if (steps_ < 0) throw Error("--steps must be >= 0, got " + std::to_string(steps_));
    if (steps_per_epoch_ < 1)
      throw Error("--steps-per-epoch must be >= 1, got " + std::to_string(steps_per_epoch_));
    if (sampler_ == "complexity-aware") {
      ComplexityAwareSampler s(*evit, seed_);
      for (long i = 0; i < steps_; ++i) {
        const SamplerStep st = s.next();
        nlohmann::json subnets = nlohmann::json::array();
        for (const auto& sub : st.subnets) subnets.push_back(subnet_json(space, sub));
        std::cout << nlohmann::json{{"step", st.step},
                                    {"level", st.target_mflops},
                                    {"level_index", st.level_index},
                                    {"subnets", subnets},
                                    {"min_subnet",
                                     {{"arch", space.to_json(st.min_arch)},
                                      {"reference_mflops", st.min_mflops}}},
                                    {"rejected_total", s.rejected()}}
                         .dump()
                  << "\n";
      }
      return 0;
    }
    PerformanceAwareSampler s(*evit, seed_);
    for (long i = 0; i < steps_; ++i) {
      const int epoch = static_cast<int>(i / steps_per_epoch_);
      const SamplerStep st = s.next(epoch);
      nlohmann::json subnets = nlohmann::json::array();
      for (const auto& sub : st.subnets) {
        nlohmann::json j = subnet_json(space, sub);
        j["from_bank"] = sub.from_bank;
        j["preferences"] = sub.preferences;
        if (!sub.from_bank) {  // the code scores and banks only freshly explored subnets
          const double score = synthetic_score(sub.arch, sub.mflops, seed_);
          j["synthetic_score"] = score;
          j["entered_bank"] = s.offer(st.level_index, sub.arch, score);
        }
        subnets.push_back(std::move(j));
      }
      std::cout << nlohmann::json{{"step", st.step},
                                  {"epoch", epoch},
                                  {"p", s.bank_probability(epoch)},
                                  {"level", st.target_mflops},
                                  {"level_index", st.level_index},
                                  {"bank_size", s.bank(st.level_index).size()},
                                  {"subnets", subnets},
                                  {"min_subnet",
                                   {{"arch", space.to_json(st.min_arch)},
                                    {"reference_mflops", st.min_mflops}}},
                                  {"rejected_total", s.core().rejected()}}
                       .dump()
                << "\n";
    }
    return 0;
  }

 private:
  std::string space_;
  std::string sampler_ = "uniform";
  long n_ = 10;
  long steps_ = 10;
  long steps_per_epoch_ = 1;
  std::uint64_t seed_ = 0;
};

HWNAS_REGISTER_COMMAND(
    SampleCommand, "sample",
    "Print N uniformly sampled architectures, or ElasticViT sampler steps, as JSON lines");

}  // namespace
}  // namespace hwnas::apps
