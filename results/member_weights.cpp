#include "results/member_weights.h"

#include <filesystem>

#include "core/error.h"
#include "evaluators/engine/model.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "predictors/accuracy_source.h"
#include "results/search_problem.h"

namespace hwnas {

MemberWeights::MemberWeights(const RunData& run, const SearchSpace& space,
                             const std::string& choice) {
  namespace fs = std::filesystem;
  int8_ = run.config.precision != "fp32";  // int8 or mixed
  if (choice == "random") return;
  std::string file = choice;
  if (choice == "run") {
    file = supernet_file(run.config.accuracy);
    if (file.empty()) return;
    if (!fs::exists(file))
      throw Error(
          "the run's supernet '" + file + "' is not found from " + fs::current_path().string() +
          ": run the export where the search ran, or pass --weights FILE or --weights random");
  }
  source_ = file;
  WeightStore loaded = load_safetensors(file);
  if (!is_supernet_checkpoint(loaded)) {
    file_ = std::move(loaded);
    return;
  }
  SubnetEvalOptions eo;
  eo.dataset = run.config.accuracy_dataset;
  eo.split = "val";
  eo.seed = 0;  // as `hwnas search` scores a supernet (predictors/accuracy_source.h)
  eo.threads = run.config.measure_threads;
  eo.precision = run.config.precision;
  adopt_run_depthwise_choices(run.config);
  supernet_ = std::make_unique<SubnetEvaluator>(space, file, eo);
}

MemberWeights::~MemberWeights() = default;

WeightStore MemberWeights::weights(const Arch& arch, const Network& net, std::uint64_t seed) {
  if (supernet_) return supernet_->subnet_weights(arch);
  if (file_) return *file_;
  return Model::random_weights(net, seed);
}

std::optional<QuantPlan> MemberWeights::int8_plan(const Arch& arch) {
  if (!int8_) return std::nullopt;
  if (!supernet_)
    throw Error(
        "the run searched int8 subnets, whose export calibrates each member on the run's "
        "data with its supernet; run the export where the search ran (--weights run)");
  return supernet_->int8_plan(arch);
}

}  // namespace hwnas
