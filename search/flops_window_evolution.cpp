#include "search/flops_window_evolution.h"

#include <algorithm>
#include <cstdio>
#include <unordered_set>

#include "core/error.h"

namespace hwnas {

double window_mflops(const SearchSpace& space, const Arch& arch) {
  const nlohmann::json extra = space.extra_metrics(arch);
  if (extra.contains("reference_mflops")) return extra.at("reference_mflops").get<double>();
  return static_cast<double>(space.decode(arch).macs()) / 1e6;
}

std::string window_metric_name(const SearchSpace& space) {
  return space.extra_metrics(space.smallest()).contains("reference_mflops") ? "reference_mflops"
                                                                            : "macs";
}

FlopsWindowEvolution::FlopsWindowEvolution(const SearchSpace& space, const Problem& problem,
                                           FlopsWindowParams params, std::uint64_t seed)
    : space_(space), params_(params), rng_(seed) {
  if (!(params_.window_mflops > 0))
    throw Error(
        "flops-window-evolution needs the window's lower bound: give --flops-window T "
        "(MFLOPs, > 0)");
  if (!(params_.window_width_mflops > 0))
    throw Error("flops-window-evolution: --flops-window-width must be > 0 (MFLOPs)");
  if (params_.population < 2) throw Error("flops-window-evolution: --population must be >= 2");
  if (params_.top_k == 0) params_.top_k = std::max<std::size_t>(2, params_.population / 2);
  if (params_.mutations == 0) params_.mutations = std::max<std::size_t>(1, params_.top_k / 2);
  if (params_.crossovers == 0) params_.crossovers = std::max<std::size_t>(1, params_.top_k / 2);
  params_.max_draws = std::max(1, params_.max_draws);
  params_.child_tries = std::max(1, params_.child_tries);
  params_.target = problem.target_objective(params_.target, "flops-window-evolution");
}

std::size_t FlopsWindowEvolution::batch_size() const {
  return initialised_ ? params_.mutations + params_.crossovers : params_.population;
}

bool FlopsWindowEvolution::in_window(double mflops) const {
  return mflops >= params_.window_mflops &&
         mflops <= params_.window_mflops + params_.window_width_mflops;
}

bool FlopsWindowEvolution::better(const Individual& a, const Individual& b) const {
  const bool fa = a.violation <= 0, fb = b.violation <= 0;
  if (fa != fb) return fa;
  if (!fa) return a.violation < b.violation;
  return a.fitness[static_cast<std::size_t>(params_.target)] <
         b.fitness[static_cast<std::size_t>(params_.target)];
}

Arch FlopsWindowEvolution::mutate(const Arch& parent) {
  Arch child = parent;
  const auto& dims = space_.dims();
  // The code's prob_mutation: a uniform option with probability uniform_prob, else the smallest.
  auto redraw = [&](const Dim& d, bool uniform) {
    if (uniform || uniform_real(rng_) < params_.uniform_prob)
      return d.options[static_cast<std::size_t>(
          uniform_int(rng_, 0, static_cast<int>(d.options.size()) - 1))];
    return d.options.front();
  };
  const bool depths = uniform_real(rng_) < params_.depth_prob;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const Dim& d = dims[i];
    if (d.name.rfind("depth", 0) == 0) {
      if (depths) child.genes[i] = redraw(d, false);
    } else if (uniform_real(rng_) < params_.mutation_prob) {
      child.genes[i] = redraw(d, d.name == "resolution");
    }
  }
  space_.repair(child);
  return child;
}

bool FlopsWindowEvolution::draw_in_window(const std::function<Arch()>& draw,
                                          const ArchQuery& evaluated,
                                          const std::vector<Arch>& taken, long tries, Arch* out) {
  for (long t = 0; t < tries; ++t) {
    Arch a = draw();
    const bool seen =
        (evaluated && evaluated(a)) || std::find(taken.begin(), taken.end(), a) != taken.end();
    if (!seen && in_window(window_mflops(space_, a))) {
      *out = std::move(a);
      ++accepted_;
      return true;
    }
    ++rejected_;
  }
  return false;
}

std::vector<Arch> FlopsWindowEvolution::ask(std::size_t max_n, const ArchQuery& evaluated) {
  std::vector<Arch> out;
  if (finished_) return out;
  Arch a;
  if (!initialised_) {
    const std::size_t n = std::min(max_n, params_.population);
    for (std::size_t i = 0; i < n; ++i) {
      if (!draw_in_window([&] { return space_.sample(rng_); }, evaluated, out, params_.max_draws,
                          &a)) {
        char msg[400];
        std::snprintf(msg, sizeof msg,
                      "flops-window-evolution: no new arch of '%s' with %s in [%g, %g] M after %d "
                      "draws; the space spans [%.1f, %.1f] M: choose --flops-window inside it or "
                      "widen --flops-window-width",
                      space_.name().c_str(), window_metric_name(space_).c_str(),
                      params_.window_mflops, params_.window_mflops + params_.window_width_mflops,
                      params_.max_draws, window_mflops(space_, space_.smallest()),
                      window_mflops(space_, space_.largest()));
        throw Error(msg);
      }
      out.push_back(a);
    }
    return out;
  }
  if (survivors_.empty()) {
    finished_ = true;
    stop_ = "no survivor to breed from";
    return out;
  }
  const int k = static_cast<int>(survivors_.size());
  auto pick = [&]() -> const Arch& {
    return survivors_[static_cast<std::size_t>(uniform_int(rng_, 0, k - 1))].arch;
  };
  // The code's get_mutation / get_crossover: a budget of child_tries draws per wanted child for
  // the whole batch, illegal (out-of-window or visited) candidates skipped. A generation that
  // comes out empty is retried (the code's next epoch breeds from the same survivors), at most
  // kEmptyRounds times.
  constexpr int kEmptyRounds = 10;
  for (int round = 0; round < kEmptyRounds && out.empty(); ++round) {
    const std::size_t n_mut = std::min(max_n, params_.mutations);
    long tries = static_cast<long>(n_mut) * params_.child_tries;
    for (std::size_t got = 0; got < n_mut && tries > 0; --tries)
      if (draw_in_window([&] { return mutate(pick()); }, evaluated, out, 1, &a)) {
        out.push_back(a);
        ++got;
      }
    const std::size_t n_cross = std::min(max_n - out.size(), params_.crossovers);
    tries = static_cast<long>(n_cross) * params_.child_tries;
    for (std::size_t got = 0; got < n_cross && tries > 0; --tries)
      if (draw_in_window(
              [&] {
                const Arch& p1 = pick();
                const Arch& p2 = pick();
                return space_.crossover(p1, p2, rng_);
              },
              evaluated, out, 1, &a)) {
        out.push_back(a);
        ++got;
      }
  }
  if (out.empty()) {
    finished_ = true;
    stop_ = "no new child inside the window in " + std::to_string(kEmptyRounds) + " rounds of " +
            std::to_string(params_.child_tries) + " draws per child";
  }
  return out;
}

void FlopsWindowEvolution::tell(const std::vector<Evaluation>& evaluations) {
  std::vector<Individual> pool = survivors_;
  std::unordered_set<Arch, ArchHash> seen;
  for (const auto& p : pool) seen.insert(p.arch);
  for (const auto& e : evaluations)
    if (seen.insert(e.arch).second) pool.push_back(Individual::from(e));
  std::stable_sort(pool.begin(), pool.end(),
                   [&](const Individual& a, const Individual& b) { return better(a, b); });
  if (pool.size() > params_.top_k) pool.resize(params_.top_k);
  survivors_ = std::move(pool);
  initialised_ = true;
}

nlohmann::json FlopsWindowEvolution::save_state() const {
  return {{"algorithm", name()},
          {"rng", rng_to_string(rng_)},
          {"initialised", initialised_},
          {"finished", finished_},
          {"stop", stop_},
          {"accepted", accepted_},
          {"rejected", rejected_},
          {"target", params_.target},
          {"survivors", individuals_to_json(survivors_)}};
}

void FlopsWindowEvolution::load_state(const nlohmann::json& state) {
  if (state.value("algorithm", "") != name())
    throw Error("checkpoint holds the state of '" + state.value("algorithm", std::string("?")) +
                "', not of flops-window-evolution");
  try {
    rng_ = rng_from_string(state.at("rng").get<std::string>());
    initialised_ = state.at("initialised").get<bool>();
    finished_ = state.at("finished").get<bool>();
    stop_ = state.at("stop").get<std::string>();
    accepted_ = state.at("accepted").get<std::size_t>();
    rejected_ = state.at("rejected").get<std::size_t>();
    survivors_ = individuals_from_json(state.at("survivors"), space_.name());
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("checkpoint: flops-window-evolution state is malformed: ") + e.what());
  }
}

nlohmann::json FlopsWindowEvolution::result() const {
  return {{"flops_window",
           {{"metric", window_metric_name(space_)},
            {"lo_mflops", params_.window_mflops},
            {"hi_mflops", params_.window_mflops + params_.window_width_mflops},
            {"accepted", accepted_},
            {"rejected", rejected_},
            {"stop", stop_}}}};
}

}  // namespace hwnas
