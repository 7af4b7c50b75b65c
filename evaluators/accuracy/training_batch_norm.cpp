#include "evaluators/accuracy/training_batch_norm.h"

#include "core/error.h"
#include "evaluators/ops/batch_norm.h"

namespace hwnas {

TrainingBatchNorm::TrainingBatchNorm(std::string name, std::vector<float> gamma,
                                     std::vector<float> beta, float eps)
    : name_(std::move(name)),
      gamma_(std::move(gamma)),
      beta_(std::move(beta)),
      eps_(eps),
      mean_sum_(gamma_.size(), 0.0),
      var_sum_(gamma_.size(), 0.0) {}

void TrainingBatchNorm::forward(Tensor& x, Activation act, bool reference) {
  if (static_cast<std::size_t>(x.c()) != gamma_.size())
    throw Error("BatchNorm '" + name_ + "' has " + std::to_string(gamma_.size()) +
                " channels, its input " + std::to_string(x.c()));
  const BatchStats s = batch_norm_train(x, gamma_.data(), beta_.data(), eps_, x);
  for (std::size_t c = 0; c < gamma_.size(); ++c)
    mean_sum_[c] += s.mean[c], var_sum_[c] += s.var_unbiased[c];
  ++batches_;
  if (reference)
    apply_activation_reference(act, x.data(), x.size());
  else
    apply_activation(act, x.data(), x.size());
}

void TrainingBatchNorm::write_statistics(WeightStore& out) const {
  if (batches_ == 0)
    throw Error("BatchNorm '" + name_ + "' has seen no batch to estimate statistics from");
  const auto n = static_cast<std::int64_t>(gamma_.size());
  StoredTensor mean{{n}, {}}, var{{n}, {}};
  for (std::size_t c = 0; c < gamma_.size(); ++c) {
    mean.data.push_back(static_cast<float>(mean_sum_[c] / batches_));
    var.data.push_back(static_cast<float>(var_sum_[c] / batches_));
  }
  out.tensors[name_ + ".running_mean"] = std::move(mean);
  out.tensors[name_ + ".running_var"] = std::move(var);
}

}  // namespace hwnas
