#include "evaluators/quant/depthwise_speed.h"

#include <cstdio>
#include <map>
#include <mutex>
#include <string>
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

// The timings of this process, per shape. The mutex is held while timing: two layers timed at
// once would share the cores and slow each other.
struct SpeedCache {
  std::mutex mutex;
  std::map<ShapeKey, DepthwiseSpeed> speeds;
};
SpeedCache& speed_cache() {
  static SpeedCache cache;
  return cache;
}

// "c=96,k=3,s=2,p=1,act=0,h=28,w=28": a ShapeKey as depthwise_speeds_json writes it.
std::string shape_key_text(const ShapeKey& k) {
  const auto [c, kernel, stride, pad, act, h, w] = k;
  return "c=" + std::to_string(c) + ",k=" + std::to_string(kernel) +
         ",s=" + std::to_string(stride) + ",p=" + std::to_string(pad) +
         ",act=" + std::to_string(act) + ",h=" + std::to_string(h) + ",w=" + std::to_string(w);
}

ShapeKey parse_shape_key(const std::string& text) {
  int v[7] = {};
  char tail = 0;
  if (std::sscanf(text.c_str(), "c=%d,k=%d,s=%d,p=%d,act=%d,h=%d,w=%d%c", &v[0], &v[1], &v[2],
                  &v[3], &v[4], &v[5], &v[6], &tail) != 7 ||
      v[0] < 1 || v[1] < 1 || v[2] < 1 || v[3] < 0 || v[4] < 0 || v[5] < 1 || v[6] < 1)
    throw Error("depthwise speeds: '" + text +
                "' is not a layer shape (c=C,k=K,s=S,p=P,act=A,h=H,w=W); rebuild the table's "
                "int8 rows with `hwnas profile --precision int8 --depthwise faster --force`");
  return {v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
}

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
  SpeedCache& cache = speed_cache();
  std::lock_guard lock(cache.mutex);
  if (const auto it = cache.speeds.find(key); it != cache.speeds.end()) return it->second;

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
  cache.speeds.emplace(key, speed);
  return speed;
}

nlohmann::json depthwise_speeds_json() {
  SpeedCache& cache = speed_cache();
  std::lock_guard lock(cache.mutex);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, speed] : cache.speeds)
    out[shape_key_text(key)] = {{"fp32_ms", speed.fp32_ms}, {"int8_ms", speed.int8_ms}};
  return out;
}

void remember_depthwise_speeds(const nlohmann::json& speeds) {
  if (!speeds.is_object())
    throw Error("depthwise speeds: expected an object of layer shapes, got " +
                std::string(speeds.type_name()));
  std::map<ShapeKey, DepthwiseSpeed> parsed;
  for (const auto& [text, v] : speeds.items()) {
    const ShapeKey key = parse_shape_key(text);
    DepthwiseSpeed s;
    for (auto [field, out] : {std::pair{"fp32_ms", &s.fp32_ms}, std::pair{"int8_ms", &s.int8_ms}}) {
      if (!v.is_object() || !v.contains(field) || !v[field].is_number() ||
          !(v[field].get<double>() > 0))
        throw Error("depthwise speeds: '" + text + "' needs a positive number '" + field +
                    "'; rebuild the table's int8 rows with `hwnas profile --precision int8 "
                    "--depthwise faster --force`");
      *out = v[field].get<double>();
    }
    parsed[key] = s;
  }
  SpeedCache& cache = speed_cache();
  std::lock_guard lock(cache.mutex);
  for (const auto& [key, s] : parsed) cache.speeds[key] = s;
}

bool int8_depthwise_pays(const DepthwiseSpeed& speed) {
  return speed.int8_ms <= kDepthwiseInt8Margin * speed.fp32_ms;
}

}  // namespace hwnas
