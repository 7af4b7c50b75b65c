#include "evaluators/accuracy/subnet_evaluation.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "core/error.h"
#include "evaluators/accuracy/bn_recalibration.h"
#include "evaluators/quant/engine_precision.h"
#include "evaluators/quant/int8_gemm.h"
#include "evaluators/runtime/thread_scope.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "spaces/precision_genes.h"

namespace hwnas {

SubnetEvaluator::SubnetEvaluator(const SearchSpace& space, const std::string& weights_path,
                                 SubnetEvalOptions options)
    : space_(space),
      weights_path_(weights_path),
      options_(std::move(options)),
      file_(load_safetensors(weights_path)),
      supernet_(is_supernet_checkpoint(file_)),
      fingerprint_(file_fingerprint(weights_path)),
      cache_(options_.cache_dir) {
  const RunPrecision run = parse_run_precision(options_.precision);
  // A name with a depthwise rule sets it; plain int8 and mixed keep the options' own.
  if (run.engine.int8 && options_.precision != "int8" && options_.precision != "mixed")
    options_.calibration.depthwise = run.engine.depthwise;
  // The genes and the precision must agree, or an int8 gene would be scored in fp32.
  if (run.mixed != (precision_stages(space_) > 0))
    throw Error(run.mixed
                    ? "precision mixed needs a space with precision genes: '" + space_.name() +
                          std::string(kPrecisionGeneSuffix) + "', not '" + space_.name() + "'"
                    : "space '" + space_.name() + "' has precision genes: evaluate it with " +
                          "precision mixed, or use space '" + base_space(space_).name() + "'");
  if (options_.precision != "fp32") require_int8_cpu();
}

const EvalData& SubnetEvaluator::data_for(int resolution) {
  auto it = data_.find(resolution);
  if (it == data_.end()) {
    EvalData d = open_eval_data(options_.dataset, options_.split, options_.seed, resolution,
                                options_.recal_images);
    if (options_.samples > 0 && options_.samples < d.eval.size()) d.eval.resize(options_.samples);
    it = data_.emplace(resolution, std::move(d)).first;
  }
  return it->second;
}

std::size_t SubnetEvaluator::scored_images(const Arch& arch) {
  std::lock_guard lock(mutex_);
  return data_for(space_.decode(arch).input.h).eval.size();
}

SubnetEvalResult SubnetEvaluator::evaluate(const Arch& arch, EvalPart part) {
  if (part.count == 0 || part.index >= part.count)
    throw Error("subnet evaluation: part " + std::to_string(part.index) + " of " +
                std::to_string(part.count) + " does not exist");
  std::lock_guard lock(mutex_);
  SubnetEvalResult out;
  const Network net = space_.decode(arch);
  const WeightStore weights = weights_locked(arch, net, out);
  const EvalData& data = data_for(net.input.h);
  out.dataset_id = data.eval_set->id();
  const std::size_t batch = static_cast<std::size_t>(std::max(1, options_.batch));
  const std::size_t batches = (data.eval.size() + batch - 1) / batch;
  const std::size_t first = std::min(data.eval.size(), part.index * batches / part.count * batch);
  const std::size_t last =
      std::min(data.eval.size(), (part.index + 1) * batches / part.count * batch);
  const std::vector<std::size_t> indices(data.eval.begin() + static_cast<std::ptrdiff_t>(first),
                                         data.eval.begin() + static_cast<std::ptrdiff_t>(last));
  out.precision = options_.precision;
  std::optional<QuantPlan> plan;
  if (options_.precision != "fp32") {
    const auto t0 = std::chrono::steady_clock::now();
    plan = plan_locked(net, weights, data);
    out.int8_layers = static_cast<int>(plan->layers.size());
    out.per_channel_layers = plan->per_channel_layers();
    out.int8_depthwise_layers = static_cast<int>(plan->depthwise.size());
    out.slower_depthwise_layers = static_cast<int>(plan->depthwise_fp32.size());
    out.calibration_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  out.accuracy = evaluate_accuracy(net, weights, *data.eval_set, indices, options_.batch,
                                   options_.threads, plan ? &*plan : nullptr);
  return out;
}

QuantPlan SubnetEvaluator::plan_locked(const Network& net, const WeightStore& weights,
                                       const EvalData& data) {
  const std::size_t n = options_.calibration_images;
  if (n > data.recal.size())
    throw Error("int8 calibration: " + std::to_string(n) + " calibration images asked, but " +
                "only " + std::to_string(data.recal.size()) +
                " recalibration images are drawn; raise --recal-images or lower --calibration");
  Model model = Model::from_weights(net, weights);
  return calibrate_int8(model, load_batch(*data.recal_set, data.recal, 0, n), options_.calibration);
}

QuantPlan SubnetEvaluator::int8_plan(const Arch& arch) {
  if (options_.precision == "fp32")
    throw Error("subnet evaluation: an int8 plan was asked of a " + options_.precision +
                " evaluation");
  std::lock_guard lock(mutex_);
  SubnetEvalResult out;
  const Network net = space_.decode(arch);
  const WeightStore weights = weights_locked(arch, net, out);
  return plan_locked(net, weights, data_for(net.input.h));
}

WeightStore SubnetEvaluator::subnet_weights(const Arch& arch, SubnetEvalResult* info) {
  std::lock_guard lock(mutex_);
  SubnetEvalResult out;
  WeightStore weights = weights_locked(arch, space_.decode(arch), out);
  if (info) *info = out;
  return weights;
}

WeightStore SubnetEvaluator::weights_locked(const Arch& arch, const Network& net,
                                            SubnetEvalResult& out) {
  WeightStore weights =
      supernet_ ? slice_supernet(base_space(space_), base_arch(space_, arch), file_) : file_;
  const EvalData& data = data_for(net.input.h);
  check_dataset_fits(net, *data.eval_set);
  // LayerNorm-only networks (Hiera / TurboViT) carry no running statistics to re-estimate.
  const bool has_bn =
      std::any_of(weights.tensors.begin(), weights.tensors.end(), [](const auto& t) {
        const std::string suffix = ".running_mean";
        return t.first.size() >= suffix.size() &&
               t.first.compare(t.first.size() - suffix.size(), suffix.size(), suffix) == 0;
      });
  if (options_.recalibrate && !has_bn)
    out.bn_note = "the network has no BatchNorm (LayerNorm only): nothing to recalibrate";
  if (!options_.recalibrate || !has_bn) return weights;
  out.bn_recalibrated = true;
  const auto t0 = std::chrono::steady_clock::now();
  // Recalibration runs in fp32: archs differing in precision genes only share statistics.
  const std::string key = BnStatsCache::key(
      base_space(space_).to_json(base_arch(space_, arch)).dump(), fingerprint_, data.recal_id);
  const WeightStore stats = cache_.get_or_compute(
      key,
      [&] {
        ThreadScope scope(options_.threads);
        constexpr std::size_t kRecalBatch = 64;  // FMNIST-SPEC's (and PyTorch's) batch size
        const std::size_t n = data.recal.size();
        return recalibrate_batchnorm(
            net, weights, (n + kRecalBatch - 1) / kRecalBatch, [&](std::size_t b) {
              return load_batch(*data.recal_set, data.recal, b * kRecalBatch,
                                std::min(n, (b + 1) * kRecalBatch));
            });
      },
      &out.recal_cached);
  out.recal_seconds =
      out.recal_cached
          ? 0.0
          : std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return with_bn_stats(std::move(weights), stats);
}

}  // namespace hwnas
