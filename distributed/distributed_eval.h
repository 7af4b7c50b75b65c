// `hwnas eval` as one rank of an MPI job: the scored split is cut into one part per rank, in
// whole batches (EvalPart), and rank 0 sums the counts and joins the predictions, so top-1,
// top-5 and the predictions are the one-process result exactly.
#pragma once

#include <optional>

#include "distributed/mpi_session.h"
#include "evaluators/accuracy/subnet_evaluation.h"

namespace hwnas::mpi {

/// Scores part rank() of size() of the split on every rank (each slices the subnet and
/// recalibrates its BN statistics itself: deterministic, so all ranks hold the same weights);
/// rank 0 returns the whole split's result (samples, top-1/top-5 from the summed counts,
/// predictions in split order, seconds = the slowest rank's, recalibration fields its own),
/// the other ranks nullopt. Called by every rank together. Throws hwnas::Error as
/// SubnetEvaluator::evaluate does; a rank that throws aborts the job, naming itself.
std::optional<SubnetEvalResult> evaluate_distributed(Session& session, SubnetEvaluator& evaluator,
                                                     const Arch& arch);

}  // namespace hwnas::mpi
