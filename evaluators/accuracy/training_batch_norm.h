// A BatchNorm kept explicit and in training mode, for BN recalibration of weight-sharing
// subnets (Once-for-All, Cai et al. 2020, sec. 3.2; ElasticViT). Inference folds every BN into
// the layer before it (read_conv_bn); a model built for recalibration (Model::for_bn_recalibration)
// keeps one of these after that layer instead, so the same blocks run both.
#pragma once

#include <string>
#include <vector>

#include "evaluators/engine/tensor.h"
#include "evaluators/io/safetensors.h"
#include "evaluators/ops/activation.h"

namespace hwnas {

class TrainingBatchNorm {
 public:
  /// `name` is the BN's parameter prefix ("stem.norm1", "pre_head_norm_0"); gamma, beta (C).
  TrainingBatchNorm(std::string name, std::vector<float> gamma, std::vector<float> beta, float eps);

  /// x (N, H, W, C) in place: PyTorch's training-mode forward (batch mean, biased batch
  /// variance over N, H, W; ops/batch_norm.h), then `act` (the reference kernel if `reference`).
  /// Adds the batch's mean and unbiased variance to the running sums (PyTorch's momentum=None
  /// cumulative average). Throws hwnas::Error if x has another channel count or N*H*W < 2.
  void forward(Tensor& x, Activation act, bool reference = false);

  /// Adds `<name>.running_mean` and `<name>.running_var` (C): the means over the batches run so
  /// far of the batch means and of the unbiased batch variances. Throws hwnas::Error if no
  /// batch ran.
  void write_statistics(WeightStore& out) const;

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::vector<float> gamma_, beta_;
  float eps_;
  std::vector<double> mean_sum_, var_sum_;
  int batches_ = 0;
};

}  // namespace hwnas
