// MeasuredLatencyObjective: latency measured end to end on hwnas's engine (no lookup table).
#pragma once

#include "evaluators/engine/measure.h"
#include "search/objective.h"

namespace hwnas {

/// "latency-measured" (ms, minimise): measure_network (evaluators/engine/measure.h) on each arch's
/// network, median of the timed forwards. Archs are measured one after another (parallel
/// measurements would disturb each other); the engine itself uses options.threads threads.
/// Not deterministic: resume and thread-count equality are not promised with it.
class MeasuredLatencyObjective final : public Objective {
 public:
  MeasuredLatencyObjective(const SearchSpace& space, MeasureOptions options)
      : space_(space), options_(options) {}
  std::string name() const override { return "latency-measured"; }
  std::string unit() const override { return "ms"; }
  Sense sense() const override { return Sense::minimize; }
  bool deterministic() const override { return false; }
  std::vector<double> evaluate(const std::vector<Arch>& archs) override;
  std::string source() const override;

 private:
  const SearchSpace& space_;
  MeasureOptions options_;
};

}  // namespace hwnas
