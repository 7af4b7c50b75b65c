// Where an exported member's weights come from (`hwnas export --format onnx --weights`).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "evaluators/accuracy/subnet_evaluation.h"
#include "evaluators/io/safetensors.h"
#include "results/run_data.h"
#include "spaces/search_space.h"

namespace hwnas {

class MemberWeights {
 public:
  /// `choice`: "run" (the run's supernet, sliced per member with BN recalibrated as `hwnas
  /// search` scored it, i.e. its dataset's val split with seed 0 and its measure_threads; random
  /// init when the run had no supernet), "random", or FILE (a supernet checkpoint, sliced the same
  /// way, or one subnet's safetensors, used as is). Throws hwnas::Error when the run's supernet
  /// is not found from the working directory (naming it and --weights FILE / random) or the file
  /// does not load.
  MemberWeights(const RunData& run, const SearchSpace& space, const std::string& choice);
  ~MemberWeights();

  /// The weights of `arch` (decoded as `net`): sliced, the file's, or Model::random_weights(net,
  /// seed). Throws what slicing and recalibration throw (hwnas::Error).
  WeightStore weights(const Arch& arch, const Network& net, std::uint64_t seed);

  /// For a run that searched int8 (or mixed) subnets, the plan its search quantized `arch` with
  /// (SubnetEvaluator::int8_plan on the run's data); nullopt for an fp32 run. Throws
  /// hwnas::Error for an int8 run whose weights are not the run's supernet (nothing to
  /// calibrate on), and as SubnetEvaluator::int8_plan.
  std::optional<QuantPlan> int8_plan(const Arch& arch);

  /// The supernet or file the weights come from; "" for random init.
  const std::string& source() const { return source_; }

 private:
  std::unique_ptr<SubnetEvaluator> supernet_;
  std::optional<WeightStore> file_;
  std::string source_;
  bool int8_ = false;
};

}  // namespace hwnas
