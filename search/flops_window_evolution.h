// FLOPs-window evolution: ElasticViT's subnet search (Tang et al., ICCV 2023; the official code
// microsoft/Moonlit, ElasticViT/search_subnet_via_flops.py, class EvolutionSearcher): an
// evolutionary search for the most accurate subnet whose FLOPs lie in a window [T, T + 20] M.
#pragma once

#include <string>

#include "search/algorithm.h"

namespace hwnas {

/// Hyper-parameters; the reference code's values are named after each field.
struct FlopsWindowParams {
  double window_mflops = 0;         ///< T, the window's lower bound in MFLOPs (--flops_limits); > 0
  double window_width_mflops = 20;  ///< window width (the code: 2 * bound, bound = 10)
  std::size_t population = 50;      ///< initial window samples (the code: 512)
  std::size_t top_k = 0;            ///< survivors kept (select_num 256); 0 = population / 2
  std::size_t mutations = 0;        ///< mutated children per generation (128); 0 = top_k / 2
  std::size_t crossovers = 0;       ///< crossed children per generation (128); 0 = top_k / 2
  double mutation_prob = 0.2;       ///< per-dimension mutation probability (m_prob)
  double depth_prob = 0.4;          ///< probability that all depths mutate together (s_prob)
  /// A mutated non-depth dimension takes a uniform option with this probability, else its
  /// smallest option (prob_mutation with dim_mutation_prob 0.45), which pulls children toward
  /// small subnets and so back into a low window.
  double uniform_prob = 0.45;
  /// Objective whose ranking picks the survivors; -1 = the first maximised objective (the
  /// accuracy), else objective 0.
  int target = -1;
  int max_draws = 100000;  ///< window rejection cap for one initial member (then hwnas::Error)
  int child_tries = 10;    ///< draws per wanted child (the code: max_iters = 10 * num)
};

/// The window metric of `arch` in millions: the space's reference-FLOPs convention when it has
/// one (SearchSpace::extra_metrics()["reference_mflops"], ElasticViT), else hwnas MACs / 1e6.
/// Throws what decode throws.
double window_mflops(const SearchSpace& space, const Arch& arch);
/// "reference_mflops" or "macs" (millions): which convention window_mflops uses on `space`.
std::string window_metric_name(const SearchSpace& space);

/// The search: generation 0 is `population` uniform samples accepted only inside the window
/// (rejection sampling; already evaluated archs are rejected too). Each later generation breeds
/// `mutations` children, each a mutation of a uniformly drawn survivor, and `crossovers`
/// children, each a SearchSpace::crossover of two uniformly drawn survivors; a child outside
/// the window or already evaluated is rejected and redrawn, at most child_tries draws per
/// wanted child (a generation may come out smaller, as in the code). Survivors are the top_k of
/// survivors + new evaluations (feasible first, then less violation, then the target
/// objective): a (mu + lambda) truncation selection.
/// Mutation (space-agnostic, over SearchSpace::dims()): with probability depth_prob every
/// dimension named depth* is redrawn; every other dimension is redrawn with probability
/// mutation_prob; "resolution" uniformly, others by the uniform_prob rule; then repaired.
/// Differences from the code: it redraws a stage's shared choice where the code keeps per-layer
/// lists (hwnas's ElasticViT genes are per stage, as the code's stage-wise search mode); the
/// code's depth choices exclude each stage's maximum (range(min, max)), hwnas's do not.
class FlopsWindowEvolution final : public Algorithm {
 public:
  /// Throws hwnas::Error if window_mflops <= 0, the width <= 0, population < 2, or the target
  /// objective does not exist.
  FlopsWindowEvolution(const SearchSpace& space, const Problem& problem, FlopsWindowParams params,
                       std::uint64_t seed);
  std::string name() const override { return "flops-window-evolution"; }
  std::size_t batch_size() const override;
  /// Throws hwnas::Error when the initial rejection sampling finds no new arch in the window
  /// within max_draws draws (the message gives the space's range and the fix).
  std::vector<Arch> ask(std::size_t max_n, const ArchQuery& evaluated) override;
  void tell(const std::vector<Evaluation>& evaluations) override;
  bool finished() const override { return finished_; }
  nlohmann::json save_state() const override;
  void load_state(const nlohmann::json& state) override;
  /// {"flops_window": {metric, lo_mflops, hi_mflops, accepted, rejected, stop}}.
  nlohmann::json result() const override;

  const FlopsWindowParams& params() const { return params_; }
  /// The survivors (best first).
  const std::vector<Individual>& survivors() const { return survivors_; }
  /// True if `mflops` lies in [T, T + width].
  bool in_window(double mflops) const;

 private:
  bool better(const Individual& a, const Individual& b) const;
  Arch mutate(const Arch& parent);
  // Draws until `draw` gives a new arch inside the window, at most `tries` draws; returns false
  // if none was found.
  bool draw_in_window(const std::function<Arch()>& draw, const ArchQuery& evaluated,
                      const std::vector<Arch>& taken, long tries, Arch* out);

  const SearchSpace& space_;
  FlopsWindowParams params_;
  Rng rng_;
  std::vector<Individual> survivors_;  // best first
  bool initialised_ = false;           // generation 0 was told
  bool finished_ = false;
  std::string stop_;
  std::size_t accepted_ = 0, rejected_ = 0;
};

}  // namespace hwnas
