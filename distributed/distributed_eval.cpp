#include "distributed/distributed_eval.h"

#include <iostream>

namespace hwnas::mpi {

std::optional<SubnetEvalResult> evaluate_distributed(Session& session, SubnetEvaluator& evaluator,
                                                     const Arch& arch) {
  SubnetEvalResult part;
  try {
    part = evaluator.evaluate(arch, EvalPart{static_cast<std::size_t>(session.rank()),
                                             static_cast<std::size_t>(session.size())});
  } catch (const std::exception& e) {
    // The others would wait in the gathers below forever.
    std::cerr << "error: rank " << session.rank() << ": " << e.what() << "\n";
    abort_job(1);
  }
  const AccuracyResult& a = part.accuracy;
  const std::vector<int> predictions = gather_to_root(a.predictions);
  const std::vector<double> sums =
      sum_to_root({static_cast<double>(a.samples), static_cast<double>(a.top1_correct),
                   static_cast<double>(a.top5_correct)});
  const std::vector<double> slowest = max_to_root({a.seconds});
  if (session.rank() != 0) return std::nullopt;
  SubnetEvalResult whole = part;
  AccuracyResult& w = whole.accuracy;
  w.samples = static_cast<std::size_t>(sums[0]);
  w.top1_correct = static_cast<std::size_t>(sums[1]);
  w.top5_correct = static_cast<std::size_t>(sums[2]);
  w.top1 = w.samples ? static_cast<double>(w.top1_correct) / static_cast<double>(w.samples) : 0;
  w.top5 = w.samples ? static_cast<double>(w.top5_correct) / static_cast<double>(w.samples) : 0;
  w.predictions = predictions;
  w.seconds = slowest[0];
  w.images_per_second = w.seconds > 0 ? static_cast<double>(w.samples) / w.seconds : 0;
  return whole;
}

}  // namespace hwnas::mpi
