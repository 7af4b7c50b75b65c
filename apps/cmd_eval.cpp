// `hwnas eval`: top-1 / top-5 of a subnet with weights sliced from a supernet, after BN
// recalibration, on Fashion-MNIST or a user's ImageFolder.
#include <chrono>
#include <iostream>

#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "apps/common.h"
#include "evaluators/accuracy.h"
#include "evaluators/bn_recalibration.h"
#include "evaluators/bn_stats_cache.h"
#include "evaluators/datasets/eval_data.h"
#include "evaluators/npy.h"
#include "evaluators/safetensors.h"
#include "evaluators/supernet_slicing.h"
#include "evaluators/thread_scope.h"
#include "spaces/error.h"

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
    app.add_option("--predictions", predictions_, "write the arg-max classes as .npy (float32)");
    app.add_flag("--json", json_, "print one JSON object");
  }

  int run() override {
    const SearchSpace& space = resolve_space(space_);
    const Arch arch = space.resolve(arch_);
    const Network net = space.decode(arch);
    const WeightStore file = load_safetensors(weights_);
    WeightStore weights = is_supernet_checkpoint(file) ? slice_supernet(space, arch, file) : file;
    EvalData data = open_eval_data(dataset_, split_, seed_, net.input.h, recal_images_);
    check_dataset_fits(net, *data.eval_set);
    if (samples_ > 0 && static_cast<std::size_t>(samples_) < data.eval.size())
      data.eval.resize(static_cast<std::size_t>(samples_));

    double recal_seconds = 0;
    bool cached = false;
    if (!no_recal_) {
      const auto t0 = std::chrono::steady_clock::now();
      BnStatsCache cache(cache_dir_);
      const std::string key = BnStatsCache::key(space.to_json(arch).dump(),
                                                file_fingerprint(weights_), data.recal_id);
      const WeightStore stats = cache.get_or_compute(key, [&] {
        ThreadScope scope(threads_);
        constexpr std::size_t kRecalBatch = 64;  // the contract's batch size
        const std::size_t n = data.recal.size();
        return recalibrate_batchnorm(net, weights, (n + kRecalBatch - 1) / kRecalBatch,
                                     [&](std::size_t b) {
          return load_batch(*data.recal_set, data.recal, b * kRecalBatch,
                            std::min(n, (b + 1) * kRecalBatch));
        });
      }, &cached);
      weights = with_bn_stats(std::move(weights), stats);
      recal_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    const AccuracyResult r = evaluate_accuracy(net, weights, *data.eval_set, data.eval, batch_, threads_);
    if (!predictions_.empty()) {
      NpyArray p{{static_cast<std::int64_t>(r.predictions.size())}, {}};
      p.data.assign(r.predictions.begin(), r.predictions.end());
      write_npy(predictions_, p);
    }
    if (json_) {
      nlohmann::json j = {{"top1", r.top1},
                          {"top5", r.top5},
                          {"samples", r.samples},
                          {"bn_recalibrated", !no_recal_},
                          {"dataset", data.eval_set->id()},
                          {"split", split_},
                          {"images_per_second", r.images_per_second},
                          {"eval_seconds", r.seconds},
                          {"recal_seconds", recal_seconds},
                          {"recal_cached", cached},
                          {"threads", threads_}};
      std::cout << j.dump() << "\n";
    } else {
      std::cout << "top-1 " << 100 * r.top1 << " %, top-5 " << 100 * r.top5 << " % on " << r.samples
                << " images of " << data.eval_set->id() << " (" << split_ << "), BN "
                << (no_recal_ ? "from the checkpoint" : "recalibrated") << "; "
                << r.images_per_second << " images/s at " << threads_ << " threads\n";
    }
    return 0;
  }

 private:
  std::string space_, arch_, weights_, dataset_ = "fashion-mnist", split_ = "test", cache_dir_,
      predictions_;
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
