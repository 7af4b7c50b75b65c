// BatchNorm recalibration of a weight-sharing subnet (Once-for-All, Cai et al. 2020, sec. 3.2;
// ElasticViT): a subnet sliced from a supernet inherits BN running statistics that belong to
// other subnets, so they are re-estimated on a few training batches before evaluation.
#pragma once

#include <cstddef>
#include <functional>

#include "evaluators/engine/tensor.h"
#include "evaluators/io/safetensors.h"
#include "spaces/network.h"

namespace hwnas {

/// Re-estimates every BatchNorm's running statistics of `net` with PyTorch's semantics for
/// momentum=None after reset_running_stats(): each of the `batches` forward passes (batch(b),
/// NHWC matching net.input, b = 0..batches-1 in order) normalises with the batch mean and the
/// biased batch variance over (N, H, W) (training mode, ops/batch_norm.h); the result is
/// running_mean = mean of the batch means and running_var = mean of the unbiased batch
/// variances. LayerNorm is unaffected. The forward is the engine's own model built with every
/// BN explicit (Model::for_bn_recalibration), so every space whose blocks read their BNs through
/// read_conv_bn / read_linear_bn is supported (EfficientFormer's stem, downsample and Meta4D;
/// ElasticViT's first conv, MBConv incl. SE and shortcut, transformer entry MBConv and the
/// head's pre_head_norm_0 over tokens; blocks without BN run as at inference).
/// `weights` are the subnet's tensors under the reference code's names (e.g. from
/// slice_supernet). Returns only the new `<bn>.running_mean` / `<bn>.running_var` tensors
/// (shape (C)); merge them with with_bn_stats(). Throws hwnas::Error if batches is 0, a batch
/// has the wrong shape or fewer than 2 values per channel, or a tensor is missing or
/// mis-shaped (naming it).
WeightStore recalibrate_batchnorm(const Network& net, const WeightStore& weights,
                                  std::size_t batches,
                                  const std::function<Tensor(std::size_t)>& batch);

/// `weights` with every tensor of `stats` replaced (the shapes must match). Throws hwnas::Error
/// naming a stats tensor that `weights` lacks or holds with another shape.
WeightStore with_bn_stats(WeightStore weights, const WeightStore& stats);

}  // namespace hwnas
