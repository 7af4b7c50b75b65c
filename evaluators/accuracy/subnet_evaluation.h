// Accuracy of subnets with weights inherited from a supernet: slice, recalibrate BN, score.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "evaluators/accuracy/accuracy.h"
#include "evaluators/accuracy/bn_stats_cache.h"
#include "evaluators/datasets/eval_data.h"
#include "evaluators/io/safetensors.h"
#include "evaluators/quant/quantization.h"
#include "spaces/search_space.h"

namespace hwnas {

struct SubnetEvalOptions {
  std::string dataset = "fashion-mnist";  ///< as open_eval_data takes it
  std::string split = "val";              ///< "val" (searching) or "test" (reporting)
  std::uint64_t seed = 0;                 ///< the split's seed
  std::size_t samples = 0;                ///< images scored (0 = the whole split)
  std::size_t recal_images = 512;         ///< BN recalibration images (batches of 64)
  bool recalibrate = true;
  int batch = 64;
  int threads = 2;
  std::string cache_dir;  ///< recalibrated BN statistics on disk ("" = memory only)
  /// "fp32", or "int8" (or "int8-dwfaster", "int8-dwfp32": int8 with that rule for
  /// calibration.depthwise, evaluators/quant/engine_precision.h): each subnet is calibrated
  /// (calibrate_int8) on the first
  /// `calibration_images` BN-recalibration images, after BN recalibration, and scored with
  /// its GEMM layers in int8; or "mixed": as int8 for the GEMM layers of the stages the arch's
  /// precision genes put in int8 (a `<space>+precision` space, spaces/precision_genes.h), the
  /// other stages fp32.
  std::string precision = "fp32";
  std::size_t calibration_images = 256;
  CalibrationOptions calibration;
};

/// One of `count` parts of the scored split: part `index` holds the batches [index * B / count,
/// (index + 1) * B / count) of its B batches of SubnetEvalOptions::batch images, so every image
/// is scored in the same batch, beside the same images, as when the split is scored whole (the
/// engine's results then match bit for bit), and the parts in order are the whole split.
struct EvalPart {
  std::size_t index = 0;
  std::size_t count = 1;
};

struct SubnetEvalResult {
  AccuracyResult accuracy;
  bool bn_recalibrated = false;  ///< BN statistics were re-estimated (or taken from the cache)
  std::string bn_note;           ///< why they were not, when recalibration was asked for
  bool recal_cached = false;     ///< the BN statistics came from the cache
  double recal_seconds = 0;      ///< time spent recalibrating (0 when cached or off)
  std::string dataset_id;        ///< ImageDataset::id() of the scored images
  std::string precision = "fp32";
  int int8_layers = 0;            ///< GEMM layers run in int8 (int8 only)
  int per_channel_layers = 0;     ///< of which with per-channel activation scales
  int int8_depthwise_layers = 0;  ///< depthwise layers run in int8 (int8 only)
  /// depthwise layers kept fp32 because int8 was not faster (--depthwise faster only)
  int slower_depthwise_layers = 0;
  double calibration_seconds = 0;  ///< int8 calibration time
};

/// Once-for-All / ElasticViT subnet evaluation: the subnet's weights are sliced out of the
/// supernet checkpoint (slice_supernet, or the file is used as is when it is not a supernet
/// checkpoint), its BatchNorm statistics re-estimated on `recal_images` training images
/// (recalibrate_batchnorm, cached per arch, weights file and data; skipped, with a note, for a
/// network without BatchNorm such as Hiera), and top-1/top-5 scored on the
/// held-out split (evaluate_accuracy). The checkpoint is read once; the dataset once per input
/// resolution. Thread-safe (one evaluation at a time). Throws hwnas::Error for an unreadable
/// checkpoint, a dataset that does not fit the space (classes, channels), an unknown precision,
/// int8 on a CPU without AVX2, VNNI or AMX or with more calibration than recalibration images, or
/// as the steps above.
class SubnetEvaluator {
 public:
  SubnetEvaluator(const SearchSpace& space, const std::string& weights_path,
                  SubnetEvalOptions options);

  /// Scores `part` of the split (the whole split by default): AccuracyResult over its images,
  /// predictions in split order. Throws hwnas::Error also for a part index >= count.
  SubnetEvalResult evaluate(const Arch& arch, EvalPart part = {});
  /// The weights evaluate() scores `arch` with: sliced from the supernet (or the file as is),
  /// with BN statistics recalibrated as the options say (cached). `info` (optional) receives
  /// the recalibration fields of the result (bn_recalibrated, bn_note, recal_cached,
  /// recal_seconds). Same errors as evaluate().
  WeightStore subnet_weights(const Arch& arch, SubnetEvalResult* info = nullptr);

  /// The int8 plan evaluate() quantizes `arch` with: calibrate_int8 on the first
  /// calibration_images BN-recalibration images, after BN recalibration (mixed: the int8
  /// stages' layers only). Throws hwnas::Error for an fp32 evaluation, and as evaluate().
  QuantPlan int8_plan(const Arch& arch);

  /// Images evaluate() scores for `arch`: the split's held-out part at the arch's input
  /// resolution, cut to SubnetEvalOptions::samples. Loads the dataset if not loaded yet (same
  /// errors as evaluate()).
  std::size_t scored_images(const Arch& arch);

  const SubnetEvalOptions& options() const { return options_; }
  const std::string& weights_path() const { return weights_path_; }

 private:
  const EvalData& data_for(int resolution);
  WeightStore weights_locked(const Arch& arch, const Network& net, SubnetEvalResult& out);
  QuantPlan plan_locked(const Network& net, const WeightStore& weights, const EvalData& data);

  const SearchSpace& space_;
  std::string weights_path_;
  SubnetEvalOptions options_;
  WeightStore file_;
  bool supernet_ = false;
  std::string fingerprint_;
  BnStatsCache cache_;
  std::map<int, EvalData> data_;
  std::mutex mutex_;
};

}  // namespace hwnas
