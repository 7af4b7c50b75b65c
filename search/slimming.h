// Latency-driven slimming (EfficientFormer, Li et al., NeurIPS 2022, section 4; SPACES.md 1).
#pragma once

#include "search/algorithm.h"

namespace hwnas {

struct SlimmingParams {
  Arch start;                  ///< first arch; empty genes = SearchSpace::largest()
  double latency_max_ms = 0;   ///< target: stop once latency <= this (must be > 0)
  int latency_objective = -1;  ///< index of the "latency" objective (ms, minimised)
  int quality_objective = -1;  ///< index of the maximised objective that stands for accuracy
};

/// Greedy slimming. Each step evaluates the current arch and every one-step action; within each
/// action type the candidate with the smallest quality drop is the "least important" one, and
/// the step applies, among the types' picks that save latency, the one with the smallest
/// quality drop per millisecond saved. Stops when latency <= latency_max_ms, or when no action
/// saves latency.
/// Action types on a space whose dims are named widthK / depthK / num_vit (EfficientFormer):
///   (a) "depth": a block slot of one stage replaced by identity (depthK to its previous option;
///       never below the MB3D count in the last stage),
///   (b) "mb3d": the first MB3D removed (num_vit - 1),
///   (c) "width": one stage's width shrunk by one option (16 channels in EfficientFormer).
/// On any other space each dimension is its own type: "shrink <dim> by one option".
/// The trajectory (every applied step) is result()["trajectory"].
class Slimming final : public Algorithm {
 public:
  /// Throws hwnas::Error without a latency objective, a maximised quality objective or a
  /// positive target.
  Slimming(const SearchSpace& space, const Problem& problem, SlimmingParams params);
  std::string name() const override { return "slimming"; }
  std::size_t batch_size() const override;
  std::vector<Arch> ask(std::size_t max_n, const ArchQuery& evaluated) override;
  void tell(const std::vector<Evaluation>& evaluations) override;
  bool finished() const override { return finished_; }
  nlohmann::json save_state() const override;
  void load_state(const nlohmann::json& state) override;
  nlohmann::json result() const override;

  /// One applied step: the action ("start", "depth2-1", "mb3d-1", "width1-16", ...), the arch
  /// after it, its latency and quality, and the step's quality drop and latency saving.
  struct Step {
    std::string action;
    Arch arch;
    double latency_ms = 0;
    double quality = 0;
    double drop = 0;
    double saved_ms = 0;
  };
  const std::vector<Step>& trajectory() const { return trajectory_; }
  const std::string& stop_reason() const { return stop_reason_; }

 private:
  struct Candidate {
    std::string type;
    std::string action;
    Arch arch;
  };
  std::vector<Candidate> candidates(const Arch& arch) const;

  const SearchSpace& space_;
  SlimmingParams params_;
  Arch current_;
  std::vector<Step> trajectory_;
  bool finished_ = false;
  std::string stop_reason_;
};

}  // namespace hwnas
