#include "evaluators/quant/depthwise_speed.h"

#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "evaluators/engine/tensor.h"
#include "evaluators/ops/depthwise_conv2d.h"
#include "evaluators/quant/int8_depthwise.h"
#include "evaluators/runtime/thread_scope.h"
#include "evaluators/runtime/timing.h"

namespace hwnas {

namespace {

using ShapeKey = std::tuple<int, int, int, int, int, int, int>;

// Three windows per kernel, interleaved, so a burst of host noise hits both kernels alike.
constexpr int kWindows = 3;
const TimingConfig kWindow{.warmup = 3, .min_repeats = 10, .min_time_ms = 1.0};

}  // namespace

DepthwiseSpeed time_depthwise_layer(const DepthwiseLayer& layer, const ActivationQuant& act, int h,
                                    int w) {
  if (h < 1 || w < 1)
    throw Error("depthwise timing: input " + std::to_string(h) + " x " + std::to_string(w) +
                " is empty; calibrate on at least one image first");
  const DepthwiseConv2dParams& p = layer.params();
  const ShapeKey key{p.c, p.kernel, p.stride, p.pad, static_cast<int>(p.act), h, w};
  static std::mutex mutex;
  static std::map<ShapeKey, DepthwiseSpeed> cache;
  // Held while timing: two layers timed at once would share the cores and slow each other.
  std::lock_guard lock(mutex);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;

  const ThreadScope one(1);
  Tensor in(1, h, w, p.c);
  // Any values do: neither kernel's speed depends on them (the int8 one clamps what it quantizes).
  for (std::size_t i = 0; i < in.size(); ++i)
    in.data()[i] = static_cast<float>(i % 17) / 16.0f - 0.5f;
  const int ho = (h + 2 * p.pad - p.kernel) / p.stride + 1;
  const int wo = (w + 2 * p.pad - p.kernel) / p.stride + 1;
  Tensor out(1, ho, wo, p.c);
  Int8Depthwise int8(layer, act);
  const auto fp32 = [&] { depthwise_conv2d(p, in, layer.weight(), layer.bias(), out); };
  const auto q = [&] { int8.run(in, out); };
  std::vector<TimingStats> f, i8;
  for (int window = 0; window < kWindows; ++window) {
    f.push_back(time_calls(fp32, kWindow));
    i8.push_back(time_calls(q, kWindow));
  }
  const DepthwiseSpeed speed{merge_windows(f).median_ms, merge_windows(i8).median_ms};
  cache.emplace(key, speed);
  return speed;
}

bool int8_depthwise_pays(const DepthwiseSpeed& speed) {
  return speed.int8_ms <= kDepthwiseInt8Margin * speed.fp32_ms;
}

}  // namespace hwnas
