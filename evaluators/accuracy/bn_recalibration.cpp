#include "evaluators/accuracy/bn_recalibration.h"

#include <string>

#include "core/error.h"
#include "evaluators/engine/model.h"

namespace hwnas {

WeightStore recalibrate_batchnorm(const Network& net, const WeightStore& weights,
                                  std::size_t batches,
                                  const std::function<Tensor(std::size_t)>& batch) {
  if (batches == 0) throw Error("BN recalibration needs at least one batch");
  // The engine's own blocks, built with every BN explicit and in training mode: one forward
  // per batch accumulates exactly PyTorch's momentum=None statistics.
  Model model = Model::for_bn_recalibration(net, weights);
  for (std::size_t b = 0; b < batches; ++b) {
    const Tensor x = batch(b);
    if (x.h() != net.input.h || x.w() != net.input.w || x.c() != net.input.c || x.n() < 1)
      throw Error("BN recalibration batch " + std::to_string(b) + " must be NHWC (B, " +
                  std::to_string(net.input.h) + ", " + std::to_string(net.input.w) + ", " +
                  std::to_string(net.input.c) + ")");
    model.forward(x);
  }
  return model.batchnorm_statistics();
}

WeightStore with_bn_stats(WeightStore weights, const WeightStore& stats) {
  for (const auto& [name, t] : stats.tensors) {
    auto it = weights.tensors.find(name);
    if (it == weights.tensors.end() || it->second.shape != t.shape)
      throw Error("BN statistics tensor '" + name + "' does not match the weights (missing or " +
                  "another shape): recalibrated for another arch?");
    it->second = t;
  }
  return weights;
}

}  // namespace hwnas
