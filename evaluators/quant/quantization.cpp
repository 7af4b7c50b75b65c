#include "evaluators/quant/quantization.h"

#include <algorithm>
#include <memory>

#include "core/error.h"
#include "evaluators/quant/depthwise_speed.h"
#include "evaluators/quant/int8_depthwise.h"
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
  const auto depthwise_json = [](const std::vector<DepthwiseLayerQuant>& list) {
    nlohmann::json out = nlohmann::json::array();
    for (const DepthwiseLayerQuant& l : list)
      out.push_back({{"index", l.index},
                     {"order", l.order},
                     {"channels", l.channels},
                     {"kernel", l.kernel},
                     {"stride", l.stride},
                     {"scale", l.activations.scale},
                     {"zero_point", l.activations.zero_point},
                     {"fp32_ms", l.fp32_ms},
                     {"int8_ms", l.int8_ms}});
    return out;
  };
  return {{"version", 1},
          {"rule", calibration_rule_name(options.rule)},
          {"percentile", options.percentile},
          {"auto_granularity", options.auto_granularity},
          {"weights", granularity_name(options.weights)},
          {"seed", options.seed},
          {"images", images},
          {"depthwise_precision", depthwise_precision_name(options.depthwise)},
          {"layers", layers_json},
          {"depthwise", depthwise_json(depthwise)},
          {"depthwise_fp32", depthwise_json(depthwise_fp32)}};
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
    p.options.depthwise =
        j.contains("depthwise_precision")
            ? parse_depthwise_precision(j.at("depthwise_precision").get<std::string>())
            : (j.value("depthwise_int8", false) ? DepthwisePrecision::int8
                                                : DepthwisePrecision::fp32);
    const auto check_range = [](const ActivationQuant& a, const std::string& what) {
      for (std::size_t c = 0; c < a.scale.size(); ++c)
        if (!(a.scale[c] > 0) || c >= a.zero_point.size() || a.zero_point[c] < 0 ||
            a.zero_point[c] > 255)
          throw Error("int8 plan: " + what +
                      " has a non-positive scale or a zero point outside [0, 255]");
    };
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
      check_range(q.activations, "layer " + std::to_string(q.index));
      p.layers.push_back(std::move(q));
    }
    const auto read_depthwise = [&](const nlohmann::json& l) {
      DepthwiseLayerQuant q;
      q.order = l.at("order").get<int>();
      q.index = l.contains("index") ? l.at("index").get<int>() : -1;
      q.channels = l.at("channels").get<int>();
      q.kernel = l.at("kernel").get<int>();
      q.stride = l.at("stride").get<int>();
      q.activations.granularity = Granularity::per_tensor;
      q.activations.scale = l.at("scale").get<std::vector<float>>();
      q.activations.zero_point = l.at("zero_point").get<std::vector<std::int32_t>>();
      if (q.activations.scale.size() != 1 || q.activations.zero_point.size() != 1)
        throw Error("int8 plan: depthwise layer " + std::to_string(q.order) +
                    " needs one scale and one zero point (per tensor)");
      check_range(q.activations, "depthwise layer " + std::to_string(q.order));
      q.fp32_ms = l.value("fp32_ms", 0.0);
      q.int8_ms = l.value("int8_ms", 0.0);
      return q;
    };
    for (const auto& l : j.value("depthwise", nlohmann::json::array()))
      p.depthwise.push_back(read_depthwise(l));
    for (const auto& l : j.value("depthwise_fp32", nlohmann::json::array()))
      p.depthwise_fp32.push_back(read_depthwise(l));
    return p;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("int8 plan: ") + e.what());
  }
}

namespace {

// Detaches every site of the layers when it goes out of scope (calibration observers).
struct DetachSites {
  const QuantizableLayers& layers;
  ~DetachSites() {
    for (const PackedWeights& w : layers.gemm) w.attach_site(nullptr);
    for (const DepthwiseLayer& d : layers.depthwise) d.attach_site(nullptr);
  }
};

void check_depthwise_fits(const DepthwiseLayerQuant& l, const std::vector<DepthwiseLayer>& layers,
                          int index) {
  if (index < 0 || static_cast<std::size_t>(index) >= layers.size() ||
      layers[index].params().c != l.channels || layers[index].params().kernel != l.kernel ||
      layers[index].params().stride != l.stride)
    throw Error("int8 plan: depthwise layer " + std::to_string(l.order) + " (" +
                std::to_string(l.channels) + " channels, " + std::to_string(l.kernel) + "x" +
                std::to_string(l.kernel) + ", stride " + std::to_string(l.stride) +
                ") does not exist in this model; calibrate the plan on the same architecture");
}

}  // namespace

QuantPlan calibrate_layers(const QuantizableLayers& all, const std::function<void()>& forward,
                           int runs, std::size_t images, const CalibrationOptions& options) {
  require_int8_cpu();
  const std::vector<PackedWeights>& layers = all.gemm;
  std::vector<std::shared_ptr<ActivationObserver>> seen(layers.size());
  std::atomic<int> clock{0}, depthwise_clock{0};
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const int period = layers[i].row_period() > 0 ? layers[i].row_period() : layers[i].k();
    seen[i] = std::make_shared<ActivationObserver>(layers[i].k(), period, options.seed + i,
                                                   options.kept_rows, &clock);
    layers[i].attach_site(seen[i]);
  }
  std::vector<std::shared_ptr<DepthwiseObserver>> seen_depthwise;
  if (options.depthwise != DepthwisePrecision::fp32)
    for (std::size_t i = 0; i < all.depthwise.size(); ++i) {
      // Seeds past the GEMM layers' so that no two observers sample alike.
      seen_depthwise.push_back(std::make_shared<DepthwiseObserver>(
          all.depthwise[i].params().c, options.seed + layers.size() + i, options.kept_rows,
          &depthwise_clock));
      all.depthwise[i].attach_site(seen_depthwise.back());
    }
  const DetachSites detach{all};
  for (int r = 0; r < runs; ++r) forward();
  QuantPlan plan;
  plan.options = options;
  plan.images = images;
  for (std::size_t i = 0; i < seen_depthwise.size(); ++i) {
    const ActivationObserver& s = seen_depthwise[i]->seen();
    if (s.rows_seen() == 0) continue;
    const DepthwiseConv2dParams& p = all.depthwise[i].params();
    DepthwiseLayerQuant l;
    l.index = static_cast<int>(i);
    l.order = s.first_seen();
    l.channels = p.c;
    l.kernel = p.kernel;
    l.stride = p.stride;
    l.activations = choose_activation_quant(s, Granularity::per_tensor, options);
    if (options.depthwise == DepthwisePrecision::faster) {
      const DepthwiseSpeed speed = time_depthwise_layer(
          all.depthwise[i], l.activations, seen_depthwise[i]->height(), seen_depthwise[i]->width());
      l.fp32_ms = speed.fp32_ms;
      l.int8_ms = speed.int8_ms;
      if (!int8_depthwise_pays(speed)) {
        plan.depthwise_fp32.push_back(std::move(l));
        continue;
      }
    }
    plan.depthwise.push_back(std::move(l));
  }
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
  const QuantizableLayers all{model.gemm_layers(), model.depthwise_layers()};
  QuantPlan plan = calibrate_layers(all, next_batch, runs, n, options);
  // Mixed precision: the fp32 blocks' layers were observed as context but stay fp32. The
  // ranges of the int8 ones come from the fp32 forward, as for a whole-int8 plan.
  std::erase_if(plan.layers, [&](const LayerQuant& l) {
    return !model.int8_gemm_layer(static_cast<std::size_t>(l.index));
  });
  const auto fp32_block = [&](const DepthwiseLayerQuant& l) {
    return !model.int8_depthwise_layer(static_cast<std::size_t>(l.index));
  };
  std::erase_if(plan.depthwise, fp32_block);
  std::erase_if(plan.depthwise_fp32, fp32_block);
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
  const auto& depthwise = model.depthwise_layers();
  std::vector<int> depthwise_index;
  for (const DepthwiseLayerQuant& l : plan.depthwise) {
    depthwise_index.push_back(l.index >= 0 ? l.index : l.order);
    check_depthwise_fits(l, depthwise, depthwise_index.back());
  }
  if (!ordered) return quantize_layers({layers, depthwise}, plan);
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
  for (std::size_t i = 0; i < plan.depthwise.size(); ++i)
    depthwise[depthwise_index[i]].attach_site(std::make_shared<Int8Depthwise>(
        depthwise[depthwise_index[i]], plan.depthwise[i].activations));
}

void quantize_layers(const QuantizableLayers& all, const QuantPlan& plan) {
  require_int8_cpu();
  const std::vector<PackedWeights>& layers = all.gemm;
  for (const DepthwiseLayerQuant& l : plan.depthwise)
    check_depthwise_fits(l, all.depthwise, l.index);
  for (const LayerQuant& l : plan.layers)
    if (l.index < 0 || static_cast<std::size_t>(l.index) >= layers.size() ||
        layers[l.index].k() != l.k || layers[l.index].n() != l.n)
      throw Error("int8 plan: layer " + std::to_string(l.index) + " (" + std::to_string(l.k) +
                  " x " + std::to_string(l.n) +
                  ") does not exist in this model; calibrate the plan on the same architecture");
  for (const LayerQuant& l : plan.layers)
    layers[l.index].attach_site(
        std::make_shared<Int8Gemm>(layers[l.index], l.activations, plan.options.weights));
  for (const DepthwiseLayerQuant& l : plan.depthwise)
    all.depthwise[l.index].attach_site(
        std::make_shared<Int8Depthwise>(all.depthwise[l.index], l.activations));
}

std::function<void(const QuantizableLayers&, const std::function<void()>&)> int8_timing_preparer(
    DepthwisePrecision depthwise) {
  return [depthwise](const QuantizableLayers& layers, const std::function<void()>& forward) {
    CalibrationOptions options;
    options.depthwise = depthwise;
    quantize_layers(layers, calibrate_layers(layers, forward, 1, 1, options));
    // Once in int8: its primitives are made (JIT-compiled) on first use, not in a timed call
    // (a cold-weights bench rotates through up to 32 instances of a block).
    forward();
  };
}

void dequantize(Model& model) {
  const QuantizableLayers all{model.gemm_layers(), model.depthwise_layers()};
  const DetachSites detach{all};
}

}  // namespace hwnas
