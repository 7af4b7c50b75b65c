#include "results/heldout_rescore.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"
#include "predictors/accuracy_source.h"
#include "results/search_problem.h"
#include "search/pareto.h"

namespace hwnas {
namespace {

constexpr const char* kAccuracy = "accuracy";

// Objective values as minimised, with the held-out accuracy in place of the run's.
std::vector<double> minimised(const RunData& run, const nlohmann::json& objectives,
                              double heldout) {
  std::vector<double> out;
  for (const auto& o : run.front.at("objectives")) {
    const std::string name = o.at("name");
    const double v =
        name == kAccuracy ? heldout : objectives.value(name, std::nan(""));  // NaN: never better
    out.push_back(o.value("sense", "min") == "max" ? -v : v);
  }
  return out;
}

}  // namespace

std::size_t HeldoutRescore::dominated() const {
  return static_cast<std::size_t>(std::count_if(
      members.begin(), members.end(), [](const auto& m) { return !m.dominated_by.empty(); }));
}

std::size_t HeldoutRescore::dominated_beyond_interval() const {
  return static_cast<std::size_t>(std::count_if(members.begin(), members.end(),
                                                [](const auto& m) { return m.beyond_interval; }));
}

HeldoutRescore rescore_heldout(const RunData& run, const SearchSpace& space,
                               const std::vector<ExportMember>& members, const std::string& split,
                               std::size_t samples, int threads) {
  const auto names = run.objective_names();
  if (std::find(names.begin(), names.end(), kAccuracy) == names.end())
    throw Error("--rescore: run '" + run.dir + "' has no accuracy objective to re-score");
  if (supernet_file(run.config.accuracy).empty())
    throw Error("--rescore: run '" + run.dir + "' took its accuracy from '" + run.config.accuracy +
                "', not supernet:FILE; only a supernet's subnets can be re-scored");
  AccuracySourceOptions o;
  o.dataset = run.config.accuracy_dataset;
  o.samples = samples;
  o.threads = threads;
  o.precision = run.config.precision;
  o.split = split;
  adopt_run_depthwise_choices(run.config);
  const AccuracySource source = make_accuracy_predictor(run.config.accuracy, space, o);
  SupernetAccuracy& scorer = *source.supernet;

  HeldoutRescore out;
  out.split = split;
  std::vector<Arch> archs;
  for (const auto& m : members) archs.push_back(m.arch);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<double> top1 = scorer.predict(archs);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.source = scorer.source();
  std::vector<Point> points;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const std::size_t n = scorer.samples(archs[i]);
    out.members.push_back({members[i].name, top1[i], n, wilson_interval(top1[i], n), "", false});
    points.push_back(minimised(run, members[i].objectives, top1[i]));
  }
  for (std::size_t i = 0; i < members.size(); ++i) {
    HeldoutScore& m = out.members[i];
    std::size_t best = members.size();  // the dominating member of highest held-out accuracy
    for (std::size_t j = 0; j < members.size(); ++j)
      if (j != i && dominates(points[j], points[i]) &&
          (best == members.size() || top1[j] > top1[best]))
        best = j;
    if (best == members.size()) continue;
    m.dominated_by = members[best].name;
    m.beyond_interval = top1[best] > m.interval.hi;
  }
  return out;
}

}  // namespace hwnas
