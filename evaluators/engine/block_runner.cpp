#include "evaluators/engine/block_runner.h"

#include "core/error.h"
#include "core/rng.h"
#include "evaluators/ops/layer_log.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {

BlockRunner::BlockRunner(const BlockSpec& spec, int batch, std::uint64_t seed) {
  if (batch < 1)
    throw Error("block runner: batch must be at least 1, got " + std::to_string(batch));
  ParamReader reader = ParamReader::random(seed);
  LayerLog log;
  block_ = make_block(spec, reader);
  layers_ = std::move(log.made());
  const FeatureShape in = block_input_shape(spec), out = block_output_shape(spec);
  input_ = Tensor(batch, in.h, in.w, in.c);
  output_ = Tensor(batch, out.h, out.w, out.c);
  Rng rng(seed ^ 0x9e3779b97f4a7c15ull);
  for (std::size_t i = 0; i < input_.size(); ++i)
    input_.data()[i] = static_cast<float>(2.0 * uniform_real(rng) - 1.0);
  block_->reserve(batch);
}

void BlockRunner::run() {
#if HWNAS_REFERENCE_KERNELS
  block_->forward_reference(input_, output_);
#else
  block_->forward(input_, output_);
#endif
}

}  // namespace hwnas
