// ElasticViT's supernet-training samplers (SPACES.md section 2): complexity-aware sampling over
// FLOPs levels and performance-aware sampling with per-level memory banks. An API for supernet
// training code: the trainer asks for the next step's subnets and reports their scores.
//
// Source: microsoft/Moonlit ElasticViT: models/model.py (FusedSuperNet.arch_sampling,
// sample_random_subnet_from_range, select_min_arch, _importance_comparison, bank_arch_update,
// _arch_bank_sampling), process.py (get_bank_id), util/ (parse_supernet_configs),
// train_eval_supernet.py (bank probability schedule), configs/final_3min_space.yaml.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/rng.h"
#include "spaces/elasticvit_space.h"

namespace hwnas {

/// Sampler settings; from_definition() reads them from spaces/defs/elasticvit.json "extra".
struct ElasticVitSamplerConfig {
  std::vector<int>
      levels_mflops;         ///< FLOPs levels T (MFLOPs, increasing): 100..500, 700, 900, 1200
  int flops_bound = 10;      ///< a level-T subnet has reference MFLOPs in [T, T + 2*flops_bound]
  int uniform_per_step = 3;  ///< uniform subnets per step (plus the level's minimum subnet)
  std::map<int, ElasticVitConfig> min_archs;  ///< the code's min_archs, keyed 200 / 400 / 800
  int bank_capacity_small = 150;  ///< bank capacity of levels below bank_large_from_mflops
  int bank_capacity_large = 50;
  int bank_large_from_mflops = 500;
  double bank_probability = 0.2;             ///< p at epoch 0
  double bank_probability_increment = 0.15;  ///< added every bank_probability_every_epochs
  int bank_probability_every_epochs = 100;
  int max_candidates = 5;  ///< preference candidates per draw
  int max_draws = 200000;  ///< retry cap of one window rejection loop

  /// Strict reader of the definition's "extra" object. Throws hwnas::Error naming the key.
  static ElasticVitSamplerConfig from_definition(const ElasticVitSpace& space);
};

/// Lower bounds of one level, as the code derives them from the level's minimum architecture
/// (select_min_arch + parse_supernet_configs): resolution, the widths and depths of C1..T4 and
/// each T stage's V-scale at least the min arch's; every expand at least the smallest expand of
/// the min arch's C stages and every MLP ratio at least its smallest T-stage MLP ratio. The
/// stem (width, depth) and kernels are unconstrained, as in the code (its kernel floor is
/// passed the expand floor, 3, which every kernel option meets).
struct LevelMinimum {
  int target_mflops = 0;      ///< the level T
  int min_arch_key = 0;       ///< which min arch applies (200, 400 or 800)
  ElasticVitConfig min_arch;  ///< the code's min arch: the level's "minimum subnet"
  int expand_floor = 0;
  int mlp_floor = 0;

  /// True if every bounded dimension of `c` is at or above this minimum.
  bool admits(const ElasticVitConfig& c) const;
};

/// One drawn subnet.
struct SampledSubnet {
  Arch arch;
  double mflops = 0;                ///< reference MFLOPs (ElasticVitSpace::reference_mflops)
  bool from_bank = false;           ///< performance-aware: drawn from the level's memory bank
  std::int64_t draws = 0;           ///< window rejection draws spent (accepted + rejected)
  std::vector<double> preferences;  ///< performance-aware: pref of each candidate, in draw order
  std::vector<Arch> candidates;     ///< performance-aware: the candidates, in draw order
};

/// One training step: the level, uniform_per_step subnets of it and its minimum subnet.
struct SamplerStep {
  std::int64_t step = 0;
  int level_index = 0;
  int target_mflops = 0;
  std::vector<SampledSubnet> subnets;
  Arch min_arch;
  double min_mflops = 0;
};

/// Complexity-aware sampling. Each step moves the level index by delta drawn uniformly from
/// {-1, 0, +1} ({0, 0, +1} at the first level, {-1, 0, 0} at the last; start at the first
/// level, moved before the first step as the code does), then draws subnets whose reference
/// MFLOPs lie in [T, T + 2*flops_bound] by rejection sampling: each candidate is uniform over
/// the options at or above the level's minimum (widths also at or above the previous stage's).
class ComplexityAwareSampler {
 public:
  ComplexityAwareSampler(const ElasticVitSpace& space, std::uint64_t seed,
                         ElasticVitSamplerConfig config);
  ComplexityAwareSampler(const ElasticVitSpace& space, std::uint64_t seed);

  /// The next step. Throws hwnas::Error if a window loop exceeds max_draws.
  SamplerStep next();

  /// A subnet of level `level_index` (see the class comment); counts rejections.
  SampledSubnet sample_in_window(int level_index);
  /// A uniform arch at or above the level's minimum, before the FLOPs window test.
  Arch sample_above_minimum(int level_index);

  const ElasticVitSamplerConfig& config() const { return config_; }
  const LevelMinimum& minimum(int level_index) const {
    return minima_.at(static_cast<std::size_t>(level_index));
  }
  int level_index() const { return level_; }
  int num_levels() const { return static_cast<int>(config_.levels_mflops.size()); }
  /// Window rejection draws that failed / succeeded, over the sampler's life.
  std::int64_t rejected() const { return rejected_; }
  std::int64_t accepted() const { return accepted_; }
  const ElasticVitSpace& space() const { return space_; }
  Rng& rng() { return rng_; }

  /// Moves the level index one random-walk step and returns it.
  int walk();

 private:
  ElasticVitConfig draw_config(int level_index);

  const ElasticVitSpace& space_;
  ElasticVitSamplerConfig config_;
  std::vector<LevelMinimum> minima_;
  Rng rng_;
  int level_ = 0;
  std::int64_t step_ = 0, rejected_ = 0, accepted_ = 0;
};

/// One memory-bank entry: an arch and the score the trainer gave it (the code: -cross-entropy
/// on the current batch; higher is better).
struct BankEntry {
  Arch arch;
  double score = 0;
};

/// Performance-aware sampling on top of the complexity-aware level walk. For each uniform
/// slot: with probability p(epoch), and if the level's bank holds more than half its capacity,
/// draw from the bank with probability softmax(score); otherwise draw up to max_candidates
/// window subnets (only one while the bank is below half full) and keep the one with the lowest
/// preference pref(c) = F(c with T-stage widths := anchor's) - F(c with T-stage depths :=
/// anchor's) (F = reference MFLOPs; ties: the first). The anchor is the best arch of the lowest
/// level's bank, or the space's smallest arch for the lowest level itself (the code's 'min'
/// mode) and while the lowest bank is empty (where the code would fail). Scores come from the
/// caller through offer().
class PerformanceAwareSampler {
 public:
  PerformanceAwareSampler(const ElasticVitSpace& space, std::uint64_t seed,
                          ElasticVitSamplerConfig config);
  PerformanceAwareSampler(const ElasticVitSpace& space, std::uint64_t seed);

  /// The next step at training epoch `epoch` (0-based; sets p).
  SamplerStep next(int epoch);
  /// The bank update rule (bank_arch_update): a subnet of level `level_index` with `score`
  /// enters a bank below capacity; in a full bank it replaces the worst entry if and only if it
  /// scores strictly higher. Returns true if the bank changed. Subnets drawn from a bank should
  /// not be offered (the code skips them). Throws hwnas::Error on a bad level index.
  bool offer(int level_index, const Arch& arch, double score);

  const std::vector<BankEntry>& bank(int level_index) const;
  /// 150 below 500 MFLOPs, else 50 (the definition's values).
  int capacity(int level_index) const;
  /// p(epoch) = 0.2 + 0.15 * floor((epoch + 1) / 100), at most 1 (train_eval_supernet.py adds
  /// the increment before epochs 99, 199, ...).
  double bank_probability(int epoch) const;
  /// pref(candidate) against `anchor` (see the class comment), in MFLOPs.
  static double preference(const Arch& candidate, const Arch& anchor);
  /// The anchor for a draw at level `level_index`.
  Arch anchor(int level_index) const;

  ComplexityAwareSampler& core() { return core_; }
  const ComplexityAwareSampler& core() const { return core_; }

 private:
  SampledSubnet draw(int level_index, double p);

  ComplexityAwareSampler core_;
  std::vector<std::vector<BankEntry>> banks_;
  std::int64_t step_ = 0;
};

/// A stand-in for the trainer's score when none runs (`hwnas sample` without a trainer):
/// 0.5 * ln(MFLOPs / 100) + 0.2 * u, u in [0, 1) a hash of the arch's genes and `seed`.
/// Deterministic; bigger subnets score higher on average, as larger ones do in training.
double synthetic_score(const Arch& arch, double mflops, std::uint64_t seed);

}  // namespace hwnas
