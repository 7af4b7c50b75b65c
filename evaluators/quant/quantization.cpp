#include "evaluators/quant/quantization.h"

#include <algorithm>
#include <memory>

#include "core/error.h"
#include "evaluators/quant/int8_gemm.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {

int QuantPlan::per_channel_layers() const {
  return static_cast<int>(std::count_if(layers.begin(), layers.end(), [](const LayerQuant& l) {
    return l.activations.granularity == Granularity::per_channel;
  }));
}

nlohmann::json QuantPlan::to_json() const {
  nlohmann::json layers_json = nlohmann::json::array();
  for (const LayerQuant& l : layers)
    layers_json.push_back({{"index", l.index},
                           {"order", l.order},
                           {"k", l.k},
                           {"n", l.n},
                           {"granularity", granularity_name(l.activations.granularity)},
                           {"scale", l.activations.scale},
                           {"zero_point", l.activations.zero_point},
                           {"error_per_tensor", l.error_per_tensor},
                           {"error_per_channel", l.error_per_channel}});
  return {{"version", 1},
          {"rule", calibration_rule_name(options.rule)},
          {"percentile", options.percentile},
          {"auto_granularity", options.auto_granularity},
          {"weights", granularity_name(options.weights)},
          {"seed", options.seed},
          {"images", images},
          {"layers", layers_json}};
}

QuantPlan QuantPlan::from_json(const nlohmann::json& j) {
  try {
    if (j.at("version").get<int>() != 1)
      throw Error("int8 plan: version " + j.at("version").dump() + " is not 1");
    QuantPlan p;
    p.options.rule = parse_calibration_rule(j.at("rule").get<std::string>());
    p.options.percentile = j.at("percentile").get<double>();
    p.options.auto_granularity = j.at("auto_granularity").get<bool>();
    p.options.weights = parse_granularity(j.at("weights").get<std::string>());
    p.options.seed = j.at("seed").get<std::uint64_t>();
    p.images = j.at("images").get<std::size_t>();
    for (const auto& l : j.at("layers")) {
      LayerQuant q;
      q.index = l.contains("index") ? l.at("index").get<int>() : -1;
      q.order = l.at("order").get<int>();
      q.k = l.at("k").get<int>();
      q.n = l.at("n").get<int>();
      q.activations.granularity = parse_granularity(l.at("granularity").get<std::string>());
      q.activations.scale = l.at("scale").get<std::vector<float>>();
      q.activations.zero_point = l.at("zero_point").get<std::vector<std::int32_t>>();
      q.error_per_tensor = l.value("error_per_tensor", 0.0);
      q.error_per_channel = l.value("error_per_channel", 0.0);
      for (std::size_t c = 0; c < q.activations.scale.size(); ++c)
        if (!(q.activations.scale[c] > 0) || c >= q.activations.zero_point.size() ||
            q.activations.zero_point[c] < 0 || q.activations.zero_point[c] > 255)
          throw Error("int8 plan: layer " + std::to_string(q.index) +
                      " has a non-positive scale or a zero point outside [0, 255]");
      p.layers.push_back(std::move(q));
    }
    return p;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("int8 plan: ") + e.what());
  }
}

QuantPlan calibrate_layers(const std::vector<PackedWeights>& layers,
                           const std::function<void()>& forward, int runs, std::size_t images,
                           const CalibrationOptions& options) {
  require_int8_cpu();
  std::vector<std::shared_ptr<ActivationObserver>> seen(layers.size());
  std::atomic<int> clock{0};
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const int period = layers[i].row_period() > 0 ? layers[i].row_period() : layers[i].k();
    seen[i] = std::make_shared<ActivationObserver>(layers[i].k(), period, options.seed + i,
                                                   options.kept_rows, &clock);
    layers[i].attach_site(seen[i]);
  }
  struct Detach {
    const std::vector<PackedWeights>& layers;
    ~Detach() {
      for (const PackedWeights& w : layers) w.attach_site(nullptr);
    }
  } detach{layers};
  for (int r = 0; r < runs; ++r) forward();
  QuantPlan plan;
  plan.options = options;
  plan.images = images;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (seen[i]->rows_seen() == 0) continue;
    LayerQuant l;
    l.index = static_cast<int>(i);
    l.order = seen[i]->first_seen();
    l.k = layers[i].k();
    l.n = layers[i].n();
    if (options.auto_granularity) {
      const std::vector<float> w = layers[i].unpack();
      const ActivationQuant t = choose_activation_quant(*seen[i], Granularity::per_tensor, options);
      const ActivationQuant c =
          choose_activation_quant(*seen[i], Granularity::per_channel, options);
      l.error_per_tensor = int8_output_error(*seen[i], w, l.n, t, options.weights);
      l.error_per_channel = int8_output_error(*seen[i], w, l.n, c, options.weights);
      l.activations = l.error_per_channel < l.error_per_tensor ? c : t;
    } else {
      l.activations = choose_activation_quant(*seen[i], options.activations, options);
    }
    plan.layers.push_back(std::move(l));
  }
  return plan;
}

QuantPlan calibrate_int8(Model& model, const Tensor& images, const CalibrationOptions& options,
                         int batch) {
  require_int8_cpu();
  const std::size_t n = static_cast<std::size_t>(images.n());
  if (n < kMinCalibrationImages)
    throw Error("int8 calibration needs at least " + std::to_string(kMinCalibrationImages) +
                " images, got " + std::to_string(n) + "; pass --calibration " +
                std::to_string(kMinCalibrationImages) + " or more");
  if (batch < 1) throw Error("int8 calibration: batch must be >= 1");
  const std::size_t per_image = images.size() / n;
  std::size_t b0 = 0;
  Tensor logits;
  const auto next_batch = [&] {
    const int count = static_cast<int>(std::min<std::size_t>(batch, n - b0));
    Tensor x(count, images.h(), images.w(), images.c());
    std::copy(images.data() + b0 * per_image, images.data() + (b0 + count) * per_image, x.data());
    model.forward(x, logits);
    b0 += static_cast<std::size_t>(count);
  };
  ThreadScope one(1);
  const int runs = static_cast<int>((n + batch - 1) / batch);
  QuantPlan plan = calibrate_layers(model.gemm_layers(), next_batch, runs, n, options);
  // Mixed precision: the fp32 blocks' layers were observed as context but stay fp32. The
  // ranges of the int8 ones come from the fp32 forward, as for a whole-int8 plan.
  std::erase_if(plan.layers, [&](const LayerQuant& l) {
    return !model.int8_gemm_layer(static_cast<std::size_t>(l.index));
  });
  return plan;
}

std::vector<int> gemm_execution_order(Model& model) {
  const auto& layers = model.gemm_layers();
  std::vector<std::shared_ptr<ActivationObserver>> seen(layers.size());
  std::atomic<int> clock{0};
  for (std::size_t i = 0; i < layers.size(); ++i) {
    seen[i] = std::make_shared<ActivationObserver>(layers[i].k(), layers[i].k(), 0, 1, &clock);
    layers[i].attach_site(seen[i]);
  }
  {
    const Network& net = model.network();
    Tensor zeros(1, net.input.h, net.input.w, net.input.c);
    std::fill(zeros.data(), zeros.data() + zeros.size(), 0.0f);
    ThreadScope one(1);
    Tensor logits;
    model.forward(zeros, logits);
  }
  for (const PackedWeights& w : layers) w.attach_site(nullptr);
  std::vector<int> order(static_cast<std::size_t>(clock.load()), -1);
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (seen[i]->first_seen() >= 0) order[seen[i]->first_seen()] = static_cast<int>(i);
  return order;
}

void quantize_int8(Model& model, const QuantPlan& plan) {
  require_int8_cpu();
  const auto& layers = model.gemm_layers();
  std::vector<int> by_order;
  const bool ordered = std::any_of(plan.layers.begin(), plan.layers.end(),
                                   [](const LayerQuant& l) { return l.index < 0; });
  if (!ordered) return quantize_layers(layers, plan);
  by_order = gemm_execution_order(model);
  std::vector<int> index(plan.layers.size());
  for (std::size_t i = 0; i < plan.layers.size(); ++i) {
    const LayerQuant& l = plan.layers[i];
    index[i] = l.index;
    if (l.index < 0)
      index[i] = l.order >= 0 && static_cast<std::size_t>(l.order) < by_order.size()
                     ? by_order[static_cast<std::size_t>(l.order)]
                     : -1;
    if (index[i] < 0 || static_cast<std::size_t>(index[i]) >= layers.size() ||
        layers[index[i]].k() != l.k || layers[index[i]].n() != l.n)
      throw Error("int8 plan: layer " + std::to_string(l.index >= 0 ? l.index : l.order) + " (" +
                  std::to_string(l.k) + " x " + std::to_string(l.n) +
                  ") does not exist in this model; calibrate the plan on the same architecture");
  }
  for (std::size_t i = 0; i < plan.layers.size(); ++i)
    layers[index[i]].attach_site(std::make_shared<Int8Gemm>(
        layers[index[i]], plan.layers[i].activations, plan.options.weights));
}

void quantize_layers(const std::vector<PackedWeights>& layers, const QuantPlan& plan) {
  require_int8_cpu();
  for (const LayerQuant& l : plan.layers)
    if (l.index < 0 || static_cast<std::size_t>(l.index) >= layers.size() ||
        layers[l.index].k() != l.k || layers[l.index].n() != l.n)
      throw Error("int8 plan: layer " + std::to_string(l.index) + " (" + std::to_string(l.k) +
                  " x " + std::to_string(l.n) +
                  ") does not exist in this model; calibrate the plan on the same architecture");
  for (const LayerQuant& l : plan.layers)
    layers[l.index].attach_site(
        std::make_shared<Int8Gemm>(layers[l.index], l.activations, plan.options.weights));
}

std::function<void(const std::vector<PackedWeights>&, const std::function<void()>&)>
int8_timing_preparer() {
  return [](const std::vector<PackedWeights>& layers, const std::function<void()>& forward) {
    quantize_layers(layers, calibrate_layers(layers, forward, 1, 1, CalibrationOptions{}));
    // Once in int8: its primitives are made (JIT-compiled) on first use, not in a timed call
    // (a cold-weights bench rotates through up to 32 instances of a block).
    forward();
  };
}

void dequantize(Model& model) {
  for (const PackedWeights& w : model.gemm_layers()) w.attach_site(nullptr);
}

}  // namespace hwnas
