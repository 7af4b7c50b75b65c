#include "search/problem.h"

#include <algorithm>
#include <limits>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "core/error.h"

namespace hwnas {

Problem::Problem(const SearchSpace& space, std::vector<std::shared_ptr<Objective>> objectives,
                 std::vector<Constraint> constraints)
    : space_(space), objectives_(std::move(objectives)), constraints_(std::move(constraints)) {
  if (objectives_.empty()) throw Error("search: no objective given (use --objectives)");
  auto metric_slot = [&](const std::shared_ptr<Objective>& m) -> std::size_t {
    if (!m) throw Error("search: a null objective or constraint metric");
    for (std::size_t i = 0; i < metrics_.size(); ++i) {
      if (metrics_[i]->name() == m->name()) {
        if (metrics_[i]->unit() != m->unit())
          throw Error("search: metric '" + m->name() + "' given with two units");
        return i;
      }
    }
    metrics_.push_back(m);
    return metrics_.size() - 1;
  };
  for (const auto& o : objectives_) {
    const auto names = objective_names();
    if (std::count(names.begin(), names.end(), o->name()) > 1)
      throw Error("search: objective '" + o->name() + "' listed twice in --objectives");
    objective_metric_.push_back(metric_slot(o));
  }
  for (const auto& c : constraints_) {
    if (!(c.max_value > 0))
      throw Error("search: the bound on '" + (c.metric ? c.metric->name() : "?") +
                  "' must be > 0, got " + std::to_string(c.max_value));
    constraint_metric_.push_back(metric_slot(c.metric));
  }
}

std::vector<Sense> Problem::senses() const {
  std::vector<Sense> out;
  for (const auto& o : objectives_) out.push_back(o->sense());
  return out;
}

std::vector<std::string> Problem::objective_names() const {
  std::vector<std::string> out;
  for (const auto& o : objectives_) out.push_back(o->name());
  return out;
}

int Problem::objective_index(const std::string& name) const {
  for (std::size_t i = 0; i < objectives_.size(); ++i)
    if (objectives_[i]->name() == name) return static_cast<int>(i);
  return -1;
}

bool Problem::deterministic() const {
  return std::all_of(metrics_.begin(), metrics_.end(),
                     [](const auto& m) { return m->deterministic(); });
}

Evaluation Problem::make_evaluation(Arch arch, std::vector<double> objectives,
                                    std::vector<double> constraint_values, int generation) const {
  Evaluation e;
  e.arch = std::move(arch);
  e.fitness.resize(objectives.size());
  for (std::size_t k = 0; k < objectives.size(); ++k)
    e.fitness[k] = objectives_[k]->sense() == Sense::minimize ? objectives[k] : -objectives[k];
  e.objectives = std::move(objectives);
  double violation = 0.0;
  for (std::size_t c = 0; c < constraint_values.size(); ++c) {
    const double bound = constraints_[c].max_value;
    violation += std::max(0.0, (constraint_values[c] - bound) / bound);
  }
  e.constraint_values = std::move(constraint_values);
  e.violation = violation;
  e.generation = generation;
  return e;
}

Evaluation Problem::make_failed_evaluation(Arch arch, std::string failure, int generation) const {
  if (failure.empty()) throw Error("a failed evaluation needs its reason");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Evaluation e;
  e.arch = std::move(arch);
  e.objectives.assign(objectives_.size(), nan);
  e.fitness.assign(objectives_.size(), failed_fitness);
  e.constraint_values.assign(constraints_.size(), nan);
  e.violation = failed_fitness;
  e.samples.assign(objectives_.size(), 0);
  e.generation = generation;
  e.failure = std::move(failure);
  return e;
}

MetricValues Problem::evaluate_metrics(const std::vector<Arch>& archs) {
  const std::size_t n = archs.size(), m = metrics_.size();
  MetricValues out;
  auto& values = out.values;
  values.resize(m);
  std::vector<const NetworkObjective*> per_network(m, nullptr);
  bool any_network = false;
  for (std::size_t k = 0; k < m; ++k) {
    per_network[k] = dynamic_cast<const NetworkObjective*>(metrics_[k].get());
    any_network = any_network || per_network[k];
    if (per_network[k]) values[k].resize(n);
  }
  if (any_network) {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 32),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                        for (std::size_t i = r.begin(); i != r.end(); ++i) {
                          const Network net = space_.decode(archs[i]);
                          for (std::size_t k = 0; k < m; ++k)
                            if (per_network[k])
                              values[k][i] = per_network[k]->evaluate_network(net);
                        }
                      });
  }
  auto fail = [&](std::size_t i, const std::string& why) {
    if (out.failures.empty()) out.failures.resize(n);
    if (out.failures[i].empty()) out.failures[i] = why;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t k = 0; k < m; ++k) {
    if (per_network[k]) continue;
    try {
      values[k] = metrics_[k]->evaluate(archs);
    } catch (const EvaluationFailure& batch_failure) {
      // One arch's failure must not fail its batch: ask again one at a time (sources that are
      // slow to ask twice, like an external: command, answer repeats from their own memory).
      values[k].assign(n, nan);
      for (std::size_t i = 0; i < n; ++i) {
        if (n == 1) {
          fail(i, batch_failure.what());
          break;
        }
        try {
          const std::vector<double> one = metrics_[k]->evaluate({archs[i]});
          if (one.size() != 1)
            throw Error("objective '" + metrics_[k]->name() + "' returned " +
                        std::to_string(one.size()) + " values for 1 architecture");
          values[k][i] = one[0];
        } catch (const EvaluationFailure& e) {
          fail(i, e.what());
        }
      }
    }
    if (values[k].size() != n)
      throw Error("objective '" + metrics_[k]->name() + "' returned " +
                  std::to_string(values[k].size()) + " values for " + std::to_string(n) +
                  " architectures");
  }
  for (std::size_t i = 0; i < out.failures.size(); ++i)
    if (!out.failures[i].empty())
      for (auto& v : values) v[i] = nan;
  return out;
}

std::vector<Evaluation> Problem::evaluate(const std::vector<Arch>& archs, int generation) {
  const std::size_t n = archs.size();
  const MetricValues got = remote_ ? remote_(archs, generation) : evaluate_metrics(archs);
  const auto& values = got.values;
  if (values.size() != metrics_.size())
    throw Error("the metric evaluator returned " + std::to_string(values.size()) +
                " metrics, the problem has " + std::to_string(metrics_.size()));
  for (const auto& v : values)
    if (v.size() != n)
      throw Error("the metric evaluator returned " + std::to_string(v.size()) + " values for " +
                  std::to_string(n) + " architectures");
  if (!got.failures.empty() && got.failures.size() != n)
    throw Error("the metric evaluator returned " + std::to_string(got.failures.size()) +
                " failure entries for " + std::to_string(n) + " architectures");
  std::vector<Evaluation> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!got.failures.empty() && !got.failures[i].empty()) {
      out.push_back(make_failed_evaluation(archs[i], got.failures[i], generation));
      continue;
    }
    std::vector<double> obj(objectives_.size()), con(constraints_.size());
    for (std::size_t k = 0; k < obj.size(); ++k) obj[k] = values[objective_metric_[k]][i];
    for (std::size_t c = 0; c < con.size(); ++c) con[c] = values[constraint_metric_[c]][i];
    out.push_back(make_evaluation(archs[i], std::move(obj), std::move(con), generation));
    out.back().samples.resize(objectives_.size());
    for (std::size_t k = 0; k < objectives_.size(); ++k)
      out.back().samples[k] = objectives_[k]->samples(archs[i]);
  }
  return out;
}

int Problem::target_objective(int requested, const std::string& algorithm) const {
  const auto s = senses();
  if (requested >= static_cast<int>(s.size()))
    throw Error(algorithm + ": target objective " + std::to_string(requested) + " does not exist");
  if (requested >= 0) return requested;
  for (std::size_t k = 0; k < s.size(); ++k)
    if (s[k] == Sense::maximize) return static_cast<int>(k);
  return 0;
}

}  // namespace hwnas
