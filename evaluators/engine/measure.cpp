#include "evaluators/engine/measure.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "core/rng.h"
#include "evaluators/engine/block_runner.h"
#include "evaluators/engine/model.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {

namespace {
void check(const MeasureOptions& opt) {
  if (opt.batch < 1)
    throw Error("measure: batch must be at least 1, got " + std::to_string(opt.batch));
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
  if (opt.prepare) opt.prepare(model.int8_layers(), [&] { model.forward(input, logits); });
  return time_calls([&] { model.forward(input, logits); }, opt.timing);
}

std::vector<TimingStats> measure_networks(const std::vector<Network>& nets,
                                          const MeasureOptions& opt, int windows) {
  check(opt);
  ThreadScope scope(opt.threads);
  const TimingConfig per_window = window_config(opt.timing, windows);
  std::vector<Model> models;
  std::vector<Tensor> inputs, logits(nets.size());
  for (const auto& net : nets) {
    models.push_back(Model::random(net, opt.seed));
    inputs.emplace_back(opt.batch, net.input.h, net.input.w, net.input.c);
    Rng rng(opt.seed ^ 0x9e3779b97f4a7c15ull);
    for (std::size_t i = 0; i < inputs.back().size(); ++i)
      inputs.back().data()[i] = static_cast<float>(2.0 * uniform_real(rng) - 1.0);
  }
  if (opt.prepare)
    for (std::size_t i = 0; i < nets.size(); ++i)
      opt.prepare(models[i].int8_layers(), [&] { models[i].forward(inputs[i], logits[i]); });
  std::vector<std::vector<TimingStats>> parts(nets.size());
  TimingConfig later = per_window;
  later.warmup = std::min(per_window.warmup, 1);  // buffers exist; one call refills the caches
  // Randomised interleaving: every window takes the networks in its own order, so no network
  // is always timed at the same point of a slow stretch or after the same neighbour.
  Rng order_rng(opt.seed ^ 0x5851f42d4c957f2dull);
  for (int w = 0; w < windows; ++w)
    for (std::size_t i : random_permutation(nets.size(), order_rng))
      parts[i].push_back(time_calls([&] { models[i].forward(inputs[i], logits[i]); },
                                    w == 0 ? per_window : later));
  std::vector<TimingStats> out;
  for (const auto& p : parts) out.push_back(merge_windows(p));
  return out;
}

std::vector<double> measure_inference_overheads(const std::vector<Network>& nets,
                                                const MeasureOptions& opt, int windows) {
  check(opt);
  if (windows < 1) throw Error("measure: windows must be at least 1");
  using Clock = std::chrono::steady_clock;
  ThreadScope scope(opt.threads);
  const TimingConfig per_window = window_config(opt.timing, windows);
  std::vector<Model> models;
  std::vector<Tensor> inputs;
  for (const auto& net : nets) {
    models.push_back(Model::random(net, opt.seed));
    inputs.emplace_back(opt.batch, net.input.h, net.input.w, net.input.c);
  }
  if (opt.prepare)
    for (std::size_t i = 0; i < nets.size(); ++i)
      opt.prepare(models[i].int8_layers(), [&] { models[i].forward(inputs[i]); });
  std::vector<std::vector<double>> outside(nets.size());
  for (int w = 0; w < windows; ++w)
    for (std::size_t i = 0; i < nets.size(); ++i) {
      Clock::time_point last_block;
      const auto visit = [&](std::size_t, const Tensor&) { last_block = Clock::now(); };
      // Buffers exist after the first window; one call then refills the caches.
      const int warmup = w == 0 ? per_window.warmup : std::min(per_window.warmup, 1);
      for (int k = 0; k < warmup; ++k) models[i].forward_trace(inputs[i], visit);
      double total_ms = 0;
      for (int k = 0; k < per_window.max_repeats &&
                      (k < per_window.min_repeats || total_ms < per_window.min_time_ms);
           ++k) {
        const auto t0 = Clock::now();
        models[i].forward_trace(inputs[i], visit);
        const auto t1 = Clock::now();
        total_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
        outside[i].push_back(std::chrono::duration<double, std::milli>(t1 - last_block).count());
      }
    }
  std::vector<double> out;
  for (auto& o : outside) out.push_back(summarize_ms(o).median_ms);
  return out;
}

TimingStats measure_block(const BlockSpec& spec, const MeasureOptions& opt) {
  check(opt);
  ThreadScope scope(opt.threads);
  BlockRunner runner(spec, opt.batch, opt.seed);
  if (opt.prepare) opt.prepare(runner.layers(), [&] { runner.run(); });
  return time_calls([&] { runner.run(); }, opt.timing);
}

}  // namespace hwnas
