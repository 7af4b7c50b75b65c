#include "search/objective.h"

#include <algorithm>
#include <string>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "core/error.h"
#include "predictors/surrogate_accuracy.h"

namespace hwnas {

std::string_view sense_name(Sense sense) { return sense == Sense::minimize ? "min" : "max"; }

Sense sense_from_name(std::string_view name) {
  if (name == "min") return Sense::minimize;
  if (name == "max") return Sense::maximize;
  throw Error("objective sense '" + std::string(name) + "' is not 'min' or 'max'");
}

std::vector<double> NetworkObjective::evaluate(const std::vector<Arch>& archs) {
  std::vector<double> out(archs.size());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, archs.size(), 64),
                    [&](const tbb::blocked_range<std::size_t>& r) {
                      for (std::size_t i = r.begin(); i != r.end(); ++i)
                        out[i] = evaluate_network(space_.decode(archs[i]));
                    });
  return out;
}

LatencyObjective::LatencyObjective(const SearchSpace& space,
                                   std::shared_ptr<const LatencyPredictor> predictor)
    : NetworkObjective(space), predictor_(std::move(predictor)) {
  if (!predictor_) throw Error("latency objective: no latency predictor given");
}

double LatencyObjective::evaluate_network(const Network& net) const {
  return predictor_->predict_ms(net);
}

std::string LatencyObjective::source() const { return predictor_->source(); }

double MacsObjective::evaluate_network(const Network& net) const {
  return static_cast<double>(net.macs());
}

double ParamsObjective::evaluate_network(const Network& net) const {
  return static_cast<double>(net.params());
}

AccuracyObjective::AccuracyObjective(std::shared_ptr<AccuracyPredictor> predictor)
    : predictor_(std::move(predictor)) {
  if (!predictor_) throw Error("accuracy objective: no accuracy predictor given");
}

std::vector<double> AccuracyObjective::evaluate(const std::vector<Arch>& archs) {
  if (!predictor_->thread_safe()) {
    auto out = predictor_->predict(archs);
    if (out.size() != archs.size())
      throw Error("accuracy source " + predictor_->source() + " returned " +
                  std::to_string(out.size()) + " values for " + std::to_string(archs.size()) +
                  " architectures");
    return out;
  }
  std::vector<double> out(archs.size());
  // The surrogate scores one arch without allocating: skip the chunk copies.
  if (const auto* s = dynamic_cast<const SurrogateAccuracy*>(predictor_.get())) {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, archs.size(), 256),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                        for (std::size_t i = r.begin(); i != r.end(); ++i)
                          out[i] = s->predict_one(archs[i]);
                      });
    return out;
  }
  constexpr std::size_t kChunk = 256;
  const std::size_t chunks = (archs.size() + kChunk - 1) / kChunk;
  tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
    const std::size_t lo = c * kChunk, hi = std::min(archs.size(), lo + kChunk);
    std::vector<Arch> part(archs.begin() + lo, archs.begin() + hi);
    const auto values = predictor_->predict(part);
    if (values.size() != part.size())
      throw Error("accuracy source " + predictor_->source() + " returned the wrong count");
    std::copy(values.begin(), values.end(), out.begin() + lo);
  });
  return out;
}

}  // namespace hwnas
