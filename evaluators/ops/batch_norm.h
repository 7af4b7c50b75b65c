// BatchNorm in training mode (Ioffe & Szegedy 2015; PyTorch nn.BatchNorm2d.train()): normalises
// with the batch's own statistics. The engine folds eval-mode BN into convolutions at load; this
// op exists for BN recalibration (bn_recalibration.h), which needs the batch statistics.
#pragma once

#include <vector>

#include "evaluators/engine/tensor.h"

namespace hwnas {

/// Per-channel statistics of one batch over (N, H, W), as PyTorch feeds them to the running
/// averages: the mean and the *unbiased* variance (divisor N*H*W - 1).
struct BatchStats {
  std::vector<double> mean;
  std::vector<double> var_unbiased;
};

/// out = (x - mean) / sqrt(var + eps) * gamma + beta per channel, with mean and the *biased*
/// variance of `in` over (N, H, W) (PyTorch's training-mode forward); in and out (N, H, W, C)
/// of one shape, out may alias in; gamma, beta (C). Returns the batch statistics. Two passes
/// in double precision, parallel over fixed chunks of rows summed in chunk order (the result
/// does not depend on the thread count); it runs on a handful of recalibration batches only,
/// so there is no separate fast kernel. Throws hwnas::Error on a shape mismatch or fewer than 2
/// values per channel (the unbiased variance needs 2).
BatchStats batch_norm_train(const Tensor& in, const float* gamma, const float* beta, float eps,
                            Tensor& out);

}  // namespace hwnas
