// `hwnas eval`: top-1 / top-5 of a subnet with weights sliced from a supernet, after BN
// recalibration, on Fashion-MNIST or a user's ImageFolder.
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "apps/common.h"
#include "core/error.h"
#include "distributed/distributed_eval.h"
#include "evaluators/accuracy/subnet_evaluation.h"
#include "evaluators/io/npy.h"
#include "evaluators/ops/dnnl_context.h"
#include "evaluators/quant/int8_gemm.h"
#include "spaces/registry.h"

namespace hwnas::apps {
namespace {

class EvalCommand final : public Command {
 public:
  void setup(CLI::App& app) override {
    add_space_option(app, space_);
    add_arch_option(app, arch_);
    app.add_option("--weights", weights_,
                   "supernet checkpoint (hwnas-supernet-v1 safetensors; the subnet is sliced out "
                   "of it) or a subnet's own timm-named weights")
        ->required();
    app.add_option("--dataset", dataset_,
                   "fashion-mnist (Debian's dataset-fashion-mnist, or $HWNAS_FASHION_MNIST), a "
                   "folder with its IDX files, or an ImageFolder DIR/<class>/*.jpg|png")
        ->capture_default_str();
    app.add_option("--split", split_, "val (held out of training) or test")->capture_default_str();
    app.add_option("--samples", samples_, "score the first N images of the split (0: all)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--seed", seed_, "seed of the validation / recalibration split")
        ->capture_default_str();
    app.add_flag("--no-recalibrate", no_recal_, "keep the checkpoint's BN statistics");
    app.add_option("--recal-images", recal_images_, "images for BN recalibration (batches of 64)")
        ->capture_default_str();
    app.add_option("--cache-dir", cache_dir_, "folder caching recalibrated BN statistics per arch");
    app.add_option("--batch", batch_, "images per inference batch")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--threads", threads_, "engine threads")->capture_default_str();
    app.add_option(
           "--precision", precision_,
           "fp32, or int8: GEMM and depthwise layers quantized after calibration (needs VNNI "
           "or AMX); "
           "or mixed: those of the stages the arch's precision genes put in int8 "
           "(--space SPACE+precision)")
        ->check(CLI::IsMember({"fp32", "int8", "mixed"}))
        ->capture_default_str();
    app.add_option("--calibration", calibration_,
                   "int8: calibration images (the first of the BN recalibration images)")
        ->capture_default_str();
    app.add_option("--calibration-rule", rule_,
                   "int8: activation ranges by minmax, percentile or mse")
        ->check(CLI::IsMember({"minmax", "percentile", "mse"}))
        ->capture_default_str();
    app.add_option("--granularity", granularity_,
                   "int8 activations: auto (per layer, Q-HyViT), per-tensor or per-channel")
        ->check(CLI::IsMember({"auto", "per-tensor", "per-channel"}))
        ->capture_default_str();
    app.add_option("--weight-granularity", weight_granularity_,
                   "int8 weights: per-channel (output channels) or per-tensor")
        ->check(CLI::IsMember({"per-tensor", "per-channel"}))
        ->capture_default_str();
    add_depthwise_option(app, depthwise_,
                         "with int8 or mixed, depthwise convolutions in int8 (per-tensor "
                         "activations), each in the faster of the two (timed per layer on this "
                         "CPU), or kept fp32");
    app.add_option("--predictions", predictions_, "write the arg-max classes as .npy (float32)");
    app.add_flag("--json", json_, "print one JSON object");
  }

  int run() override {
    const SearchSpace& space = get_space(space_);
    const Arch arch = space.resolve(arch_);
    SubnetEvalOptions o;
    o.dataset = dataset_;
    o.split = split_;
    o.seed = seed_;
    o.samples = static_cast<std::size_t>(samples_);
    o.recal_images = recal_images_;
    o.recalibrate = !no_recal_;
    o.batch = batch_;
    o.threads = threads_;
    o.cache_dir = cache_dir_;
    o.precision = precision_;
    o.calibration_images = calibration_;
    o.calibration.rule = parse_calibration_rule(rule_);
    o.calibration.auto_granularity = granularity_ == "auto";
    if (granularity_ != "auto") o.calibration.activations = parse_granularity(granularity_);
    o.calibration.weights = parse_granularity(weight_granularity_);
    o.calibration.depthwise = parse_depthwise_precision(depthwise_);
    SubnetEvaluator evaluator(space, weights_, o);
    std::optional<mpi::Session> session;
    if (mpi::launched_by_mpirun()) session.emplace();  // one part of the split per rank
    const std::optional<SubnetEvalResult> result =
        session ? mpi::evaluate_distributed(*session, evaluator, arch) : evaluator.evaluate(arch);
    if (!result) return 0;  // a rank other than 0: rank 0 reports
    const SubnetEvalResult& e = *result;
    const AccuracyResult& r = e.accuracy;
    if (!predictions_.empty()) {
      NpyArray p{{static_cast<std::int64_t>(r.predictions.size())}, {}};
      p.data.assign(r.predictions.begin(), r.predictions.end());
      write_npy(predictions_, p);
    }
    if (json_) {
      nlohmann::json j = {{"top1", r.top1},
                          {"top5", r.top5},
                          {"samples", r.samples},
                          {"bn_recalibrated", e.bn_recalibrated},
                          {"dataset", e.dataset_id},
                          {"split", split_},
                          {"images_per_second", r.images_per_second},
                          {"eval_seconds", r.seconds},
                          {"recal_seconds", e.recal_seconds},
                          {"recal_cached", e.recal_cached},
                          {"threads", threads_},
                          {"ranks", session ? session->size() : 1},
                          {"precision", e.precision}};
      if (e.precision != "fp32")
        j["int8"] = {{"layers", e.int8_layers},
                     {"per_channel_layers", e.per_channel_layers},
                     {"calibration_images", calibration_},
                     {"calibration_rule", rule_},
                     {"granularity", granularity_},
                     {"weight_granularity", weight_granularity_},
                     {"depthwise", depthwise_},
                     {"depthwise_layers", e.int8_depthwise_layers},
                     {"depthwise_layers_kept_fp32", e.slower_depthwise_layers},
                     {"calibration_seconds", e.calibration_seconds},
                     {"isa", dnnl_isa_name()},
                     {"kernels", int8_kernels()}};
      if (!e.bn_note.empty()) j["bn_note"] = e.bn_note;
      std::cout << j.dump() << "\n";
    } else {
      std::cout << "top-1 " << 100 * r.top1 << " %, top-5 " << 100 * r.top5 << " % on " << r.samples
                << " images of " << e.dataset_id << " (" << split_ << "), BN "
                << (e.bn_recalibrated   ? "recalibrated"
                    : e.bn_note.empty() ? "from the checkpoint"
                                        : "not recalibrated (" + e.bn_note + ")")
                << "; " << r.images_per_second << " images/s at " << threads_ << " threads";
      if (e.precision != "fp32")
        std::cout << "; int8: " << e.int8_layers << " GEMM layers (" << e.per_channel_layers
                  << " per-channel) and " << e.int8_depthwise_layers << " depthwise layers"
                  << (depthwise_ == "faster" ? " (" + std::to_string(e.slower_depthwise_layers) +
                                                   " kept fp32, int8 not faster)"
                                             : "")
                  << ", " << calibration_ << " calibration images (" << rule_ << "), "
                  << int8_kernels() << " kernels on " << dnnl_isa_name();
      std::cout << "\n";
    }
    return 0;
  }

 private:
  std::string space_, arch_, weights_, dataset_ = "fashion-mnist", split_ = "test", cache_dir_,
                                       predictions_;
  std::string precision_ = "fp32", rule_ = "mse", granularity_ = "auto",
              weight_granularity_ = "per-channel", depthwise_ = "int8";
  std::size_t calibration_ = 256;
  long samples_ = 0;
  std::uint64_t seed_ = 0;
  std::size_t recal_images_ = 512;
  int batch_ = 64, threads_ = 2;
  bool no_recal_ = false, json_ = false;
};

HWNAS_REGISTER_COMMAND(EvalCommand, "eval",
                       "Top-1/top-5 of a subnet sliced from a supernet, after BN recalibration");

}  // namespace
}  // namespace hwnas::apps
