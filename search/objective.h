// Objectives: what a search optimises or constrains (latency, MACs, params, accuracy).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "predictors/accuracy_predictor.h"
#include "predictors/latency_predictor.h"
#include "spaces/arch.h"
#include "spaces/network.h"
#include "spaces/search_space.h"

namespace hwnas {

enum class Sense { minimize, maximize };

/// "min" or "max" (as written in front.json).
std::string_view sense_name(Sense sense);
/// Parses "min"/"max". Throws hwnas::Error naming the value.
Sense sense_from_name(std::string_view name);

/// One objective: a name (the key in front.json and run.db), a unit, a sense, and a batched
/// evaluation. evaluate() is called from one thread at a time per instance.
class Objective {
 public:
  virtual ~Objective() = default;
  virtual std::string name() const = 0;
  virtual std::string unit() const = 0;
  virtual Sense sense() const = 0;
  /// One value per arch, in order, in `unit()`. Throws hwnas::Error on a failing source.
  virtual std::vector<double> evaluate(const std::vector<Arch>& archs) = 0;
  /// Whether the same arch always gets the same value (resume and thread-count equality
  /// are only promised for deterministic objectives).
  virtual bool deterministic() const { return true; }
  /// Where the values come from, for reports (e.g. "LUT host@hwnas.db").
  virtual std::string source() const { return name(); }
  /// Held-out images the value evaluate() gave `arch` is a proportion over (its confidence
  /// interval's n), or 0 when it is not one (latency, MACs, a surrogate's estimate). Asked after
  /// evaluate() for the same arch, from the thread that called it.
  virtual std::size_t samples(const Arch& arch) {
    static_cast<void>(arch);
    return 0;
  }
};

/// An objective computed from the decoded Network alone. evaluate_network must be thread-safe:
/// Problem decodes each arch once and evaluates every NetworkObjective on it in parallel.
class NetworkObjective : public Objective {
 public:
  explicit NetworkObjective(const SearchSpace& space) : space_(space) {}
  /// Value for one decoded network, in unit(). Thread-safe.
  virtual double evaluate_network(const Network& net) const = 0;
  /// Decodes each arch (in parallel, TBB) and calls evaluate_network.
  std::vector<double> evaluate(const std::vector<Arch>& archs) override;

 protected:
  const SearchSpace& space_;
};

/// Predicted latency (ms, minimise) from a LatencyPredictor, e.g. a device's lookup table.
class LatencyObjective final : public NetworkObjective {
 public:
  LatencyObjective(const SearchSpace& space, std::shared_ptr<const LatencyPredictor> predictor);
  std::string name() const override { return "latency"; }
  std::string unit() const override { return "ms"; }
  Sense sense() const override { return Sense::minimize; }
  double evaluate_network(const Network& net) const override;
  std::string source() const override;

 private:
  std::shared_ptr<const LatencyPredictor> predictor_;
};

/// Multiply-accumulates at batch 1 (Network::macs). Minimised as a cost, or maximised as the
/// compute a latency buys (the default objectives before an accuracy source exists).
class MacsObjective final : public NetworkObjective {
 public:
  MacsObjective(const SearchSpace& space, Sense sense) : NetworkObjective(space), sense_(sense) {}
  std::string name() const override { return "macs"; }
  std::string unit() const override { return "MACs"; }
  Sense sense() const override { return sense_; }
  double evaluate_network(const Network& net) const override;

 private:
  Sense sense_;
};

/// Learnable parameters (Network::params), minimised.
class ParamsObjective final : public NetworkObjective {
 public:
  explicit ParamsObjective(const SearchSpace& space) : NetworkObjective(space) {}
  std::string name() const override { return "params"; }
  std::string unit() const override { return "params"; }
  Sense sense() const override { return Sense::minimize; }
  double evaluate_network(const Network& net) const override;
};

/// Accuracy from an AccuracyPredictor (maximise). Thread-safe predictors are called on
/// chunks in parallel; others get the whole batch from one thread.
class AccuracyObjective final : public Objective {
 public:
  explicit AccuracyObjective(std::shared_ptr<AccuracyPredictor> predictor);
  std::string name() const override { return "accuracy"; }
  std::string unit() const override { return predictor_->unit(); }
  Sense sense() const override { return Sense::maximize; }
  std::vector<double> evaluate(const std::vector<Arch>& archs) override;
  std::string source() const override { return predictor_->source(); }
  std::size_t samples(const Arch& arch) override { return predictor_->samples(arch); }

 private:
  std::shared_ptr<AccuracyPredictor> predictor_;
};

}  // namespace hwnas
