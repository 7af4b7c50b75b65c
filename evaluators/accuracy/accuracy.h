// Top-1 / top-5 accuracy of a network with given weights over a dataset split.
#pragma once

#include <cstddef>
#include <vector>

#include "evaluators/datasets/image_dataset.h"
#include "evaluators/io/safetensors.h"
#include "evaluators/quant/quantization.h"
#include "spaces/network.h"

namespace hwnas {

struct AccuracyResult {
  std::size_t samples = 0;
  double top1 = 0;  ///< fraction in [0, 1]: the label is the arg-max logit
  double top5 = 0;  ///< fraction: the label is among the 5 largest logits (all, below 5 classes)
  std::size_t top1_correct = 0;  ///< samples counted in top1 (so that parts can be summed)
  std::size_t top5_correct = 0;  ///< samples counted in top5
  double seconds = 0;            ///< wall time of loading, preprocessing and inference
  double images_per_second = 0;  ///< samples / seconds
  std::vector<int> predictions;  ///< arg-max class per sample, in `indices` order
};

/// Throws hwnas::Error naming the dataset if its class count or preprocessed image shape differs
/// from the network's (e.g. an ImageFolder of 3 classes for a 10-class space).
void check_dataset_fits(const Network& net, const ImageDataset& set);

/// Runs `net` with `weights` (timm names, BN statistics final) on set[indices[i]] and scores the
/// logits against the labels. Batches of `batch` images run in parallel with TBB at `threads`
/// threads, one Model per worker thread (each forward isolated, so a worker waiting inside its
/// Model's parallel loops never picks up another batch on the same Model). Ties in the arg-max
/// go to the lower class index (as torch.argmax). Throws hwnas::Error as check_dataset_fits(),
/// if batch or threads < 1, or as
/// Model::from_weights and ImageDataset::load. With `int8`, every worker's Model is quantized
/// by that plan (quantize_int8, which also throws) before it scores.
AccuracyResult evaluate_accuracy(const Network& net, const WeightStore& weights,
                                 const ImageDataset& set, const std::vector<std::size_t>& indices,
                                 int batch = 64, int threads = 2, const QuantPlan* int8 = nullptr);

}  // namespace hwnas
