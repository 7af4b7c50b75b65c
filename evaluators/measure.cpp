#include "evaluators/measure.h"

#include "evaluators/block_runner.h"
#include "evaluators/model.h"
#include "evaluators/thread_scope.h"
#include "spaces/error.h"
#include "spaces/rng.h"

namespace hwnas {

namespace {
void check(const MeasureOptions& opt) {
  if (opt.batch < 1) throw Error("measure: batch must be at least 1, got " + std::to_string(opt.batch));
  if (opt.threads < 1)
    throw Error("measure: threads must be at least 1, got " + std::to_string(opt.threads));
}
}  // namespace

TimingStats measure_network(const Network& net, const MeasureOptions& opt) {
  check(opt);
  ThreadScope scope(opt.threads);
  Model model = Model::random(net, opt.seed);
  Tensor input(opt.batch, net.input.h, net.input.w, net.input.c);
  Rng rng(opt.seed ^ 0x9e3779b97f4a7c15ull);
  for (std::size_t i = 0; i < input.size(); ++i)
    input.data()[i] = static_cast<float>(2.0 * uniform_real(rng) - 1.0);
  Tensor logits;
  model.forward(input, logits);  // allocates every buffer before timing
  return time_calls([&] { model.forward(input, logits); }, opt.timing);
}

TimingStats measure_block(const BlockSpec& spec, const MeasureOptions& opt) {
  check(opt);
  ThreadScope scope(opt.threads);
  BlockRunner runner(spec, opt.batch, opt.seed);
  return time_calls([&] { runner.run(); }, opt.timing);
}

}  // namespace hwnas
