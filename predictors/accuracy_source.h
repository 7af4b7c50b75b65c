// Accuracy predictors from the run's spec string, the one place that parses it:
//   supernet:FILE.safetensors  subnets sliced from a weight-sharing supernet, BN recalibrated,
//                              top-1 on the dataset's held-out val split in the engine;
//   external:CMD               JSON lines over CMD's stdin/stdout (external_accuracy.h);
//   surrogate:FILE.csv         ridge regression on one-hot genes (surrogate_accuracy.h).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "predictors/accuracy_predictor.h"
#include "predictors/screened_accuracy.h"
#include "predictors/supernet_accuracy.h"
#include "spaces/search_space.h"

namespace hwnas {

/// How a supernet source scores subnets (ignored by the other kinds).
struct AccuracySourceOptions {
  std::string dataset = "fashion-mnist";  ///< as open_eval_data takes it
  std::size_t samples = 1000;             ///< held-out images per subnet (0 = the whole split)
  int threads = 2;                        ///< engine threads
  /// Share of each batch evaluated for real once the online surrogate is trained (<1 wraps
  /// the supernet in a ScreenedAccuracy); 1 = every arch evaluated.
  double prescreen = 1.0;
  /// external: the longest wait for one answer, seconds (0: ExternalAccuracyOptions' default).
  double timeout_s = 0;
  /// supernet: "fp32", or "int8" (each subnet calibrated and scored quantized,
  /// SubnetEvalOptions::precision).
  std::string precision = "fp32";
  /// supernet: the split scored, "val" (searching) or "test" (a held-out re-scoring).
  std::string split = "val";
  /// supernet: images of the final re-scoring (RunConfig::final_samples: -1 none, 0 the whole
  /// split); AccuracySource::final_scorer exists only when this scores more than `samples`.
  int final_samples = -1;
};

/// The predictor a spec names, and the typed parts a run reports on.
struct AccuracySource {
  std::shared_ptr<AccuracyPredictor> predictor;  ///< what the search asks
  std::shared_ptr<SupernetAccuracy> supernet;    ///< supernet: the engine evaluator, else null
  std::shared_ptr<ScreenedAccuracy> screened;    ///< supernet with prescreen < 1, else null
  /// supernet whose final_samples exceed its samples: the same evaluation on final_samples
  /// images, which re-scores the front's candidates at the end; else null.
  std::shared_ptr<SupernetAccuracy> final_scorer;
};

/// Builds the accuracy predictor `spec` names for `space`. The supernet's val split uses seed 0,
/// the split the supernets were trained against (tools/), whatever the search's seed. Throws
/// hwnas::Error on an empty spec or one of no known kind (naming the three) and whatever the
/// source throws (missing file, bad checkpoint, missing dataset).
AccuracySource make_accuracy_predictor(const std::string& spec, const SearchSpace& space,
                                       const AccuracySourceOptions& options);

/// The FILE of a "supernet:FILE" spec, or "" for any other spec.
std::string supernet_file(const std::string& spec);

}  // namespace hwnas
