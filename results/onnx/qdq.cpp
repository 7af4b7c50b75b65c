#include "results/onnx/qdq.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <functional>
#include <numeric>

#include "core/error.h"

namespace hwnas::onnx_export {
namespace {

std::string dims_string(std::int64_t k, std::int64_t n) {
  return std::to_string(k) + " x " + std::to_string(n);
}

// A QuantizeLinear or DequantizeLinear node; per-axis when the scale has more than one value.
std::string qdq_node(GraphBuilder& b, const std::string& op, const std::string& x,
                     const std::string& scale, const std::string& zero, bool per_axis, int axis) {
  std::string y;
  auto* n = b.node(op, {x, scale, zero}, y);
  if (per_axis) GraphBuilder::integer(n, "axis", axis);
  return y;
}

}  // namespace

QdqLayers::QdqLayers(const QuantPlan& plan) : layers_(plan.layers), depthwise_(plan.depthwise) {
  // Layers --depthwise faster kept fp32 hold their places in the execution order.
  depthwise_int8_.assign(depthwise_.size(), true);
  for (const DepthwiseLayerQuant& l : plan.depthwise_fp32) {
    depthwise_.push_back(l);
    depthwise_int8_.push_back(false);
  }
  if (plan.options.weights != Granularity::per_channel)
    throw Error(
        "ONNX export of an int8 member: its plan quantizes weights per tensor, which the QDQ "
        "graph cannot reproduce (the engine folds BatchNorm first); calibrate with per-channel "
        "weights (the default)");
  std::stable_sort(layers_.begin(), layers_.end(),
                   [](const LayerQuant& a, const LayerQuant& b) { return a.order < b.order; });
  std::vector<std::size_t> by_order(depthwise_.size());
  std::iota(by_order.begin(), by_order.end(), std::size_t{0});
  std::stable_sort(by_order.begin(), by_order.end(), [&](std::size_t a, std::size_t b) {
    return depthwise_[a].order < depthwise_[b].order;
  });
  std::vector<DepthwiseLayerQuant> layers;
  std::vector<bool> int8;
  for (std::size_t i : by_order) {
    layers.push_back(depthwise_[i]);
    int8.push_back(depthwise_int8_[i]);
  }
  depthwise_ = std::move(layers);
  depthwise_int8_ = std::move(int8);
}

GemmInputs QdqLayers::next(GraphBuilder& b, const std::string& x, int channel_axis,
                           const std::string& what, const std::vector<float>& w,
                           const std::vector<std::int64_t>& dims) {
  if (next_ >= layers_.size())
    throw Error("ONNX export of an int8 member: GEMM layer '" + what + "' is the graph's " +
                std::to_string(next_ + 1) + "th, but the int8 plan has " +
                std::to_string(layers_.size()) + " layers; the plan belongs to another network");
  const LayerQuant& layer = layers_[next_++];
  const std::int64_t cout = dims.at(0), cin = dims.at(1);
  const std::int64_t taps = std::accumulate(dims.begin() + 2, dims.end(), std::int64_t{1},
                                            std::multiplies<std::int64_t>());
  const int channels = layer.activations.channels();
  if (layer.k != cin * taps || layer.n != cout || (channels != 1 && channels != cin))
    throw Error("ONNX export of an int8 member: plan layer " + std::to_string(layer.order) +
                " is " + dims_string(layer.k, layer.n) + " with " + std::to_string(channels) +
                " activation channels, but the graph's GEMM layer '" + what +
                "' at that place is " + dims_string(cin * taps, cout) +
                "; the plan belongs to another network");
  // quantize_weights takes a k x n matrix whose row r reads channel r % channels: row
  // t * cin + c holds tap t of input channel c (the engine's im2col order).
  const int k = static_cast<int>(layer.k), n = static_cast<int>(layer.n);
  const auto at = [&](std::int64_t o, std::int64_t c, std::int64_t t) {
    return static_cast<std::size_t>((o * cin + c) * taps + t);
  };
  std::vector<float> kn(w.size());
  for (std::int64_t o = 0; o < cout; ++o)
    for (std::int64_t c = 0; c < cin; ++c)
      for (std::int64_t t = 0; t < taps; ++t)
        kn[static_cast<std::size_t>((t * cin + c) * cout + o)] = w[at(o, c, t)];
  const QuantizedWeights qw =
      quantize_weights(kn, k, n, layer.activations, Granularity::per_channel);
  std::vector<std::int8_t> q(w.size());
  for (std::int64_t o = 0; o < cout; ++o)
    for (std::int64_t c = 0; c < cin; ++c)
      for (std::int64_t t = 0; t < taps; ++t)
        q[at(o, c, t)] = qw.q[static_cast<std::size_t>((t * cin + c) * cout + o)];

  return emit(b, x, channel_axis, what, layer.activations, q, qw.scale, dims);
}

GemmInputs QdqLayers::next_depthwise(GraphBuilder& b, const std::string& x, const std::string& what,
                                     const std::vector<float>& w,
                                     const std::vector<std::int64_t>& dims) {
  const std::int64_t c = dims.at(0), k = dims.at(2);
  if (depthwise_.empty()) return {x, b.param(what + ".weight", dims)};
  if (next_depthwise_ >= depthwise_.size())
    throw Error("ONNX export of an int8 member: depthwise layer '" + what + "' is the graph's " +
                std::to_string(next_depthwise_ + 1) + "th, but the int8 plan has " +
                std::to_string(depthwise_.size()) +
                " depthwise layers; the plan belongs to another network");
  const bool int8 = depthwise_int8_[next_depthwise_];
  const DepthwiseLayerQuant& layer = depthwise_[next_depthwise_++];
  if (layer.channels != c || layer.kernel != k)
    throw Error("ONNX export of an int8 member: plan depthwise layer " +
                std::to_string(layer.order) + " has " + std::to_string(layer.channels) +
                " channels and a " + std::to_string(layer.kernel) + "x" +
                std::to_string(layer.kernel) + " kernel, but the graph's layer '" + what +
                "' at that place has " + std::to_string(c) + " and " + std::to_string(k) + "x" +
                std::to_string(k) + "; the plan belongs to another network");
  if (!int8) return {x, b.param(what + ".weight", dims)};
  // As Int8Depthwise: the (taps x c) filter matrix quantized per column (output channel).
  const std::int64_t taps = k * k;
  std::vector<float> kn(w.size());
  for (std::int64_t ch = 0; ch < c; ++ch)
    for (std::int64_t t = 0; t < taps; ++t)
      kn[static_cast<std::size_t>(t * c + ch)] = w[static_cast<std::size_t>(ch * taps + t)];
  const QuantizedWeights qw = quantize_weights(kn, static_cast<int>(taps), static_cast<int>(c),
                                               layer.activations, Granularity::per_channel);
  std::vector<std::int8_t> q(w.size());
  for (std::int64_t ch = 0; ch < c; ++ch)
    for (std::int64_t t = 0; t < taps; ++t)
      q[static_cast<std::size_t>(ch * taps + t)] = qw.q[static_cast<std::size_t>(t * c + ch)];
  return emit(b, x, 1, what, layer.activations, q, qw.scale, dims);
}

GemmInputs QdqLayers::emit(GraphBuilder& b, const std::string& x, int channel_axis,
                           const std::string& what, const ActivationQuant& a,
                           const std::vector<std::int8_t>& q, std::vector<float> wscale,
                           const std::vector<std::int64_t>& dims) {
  const std::int64_t cout = dims.at(0), cin = a.channels() == 1 ? 1 : dims.at(1);
  const bool per_tensor = a.channels() == 1;
  std::vector<std::uint8_t> zero(a.zero_point.begin(), a.zero_point.end());
  const std::vector<std::int64_t> adims =
      per_tensor ? std::vector<std::int64_t>{} : std::vector<std::int64_t>{cin};
  const std::string s = b.const_floats(adims, a.scale), z = b.const_uint8(adims, zero);
  const std::string quantized = qdq_node(b, "QuantizeLinear", x, s, z, !per_tensor, channel_axis);
  std::string dq_scale = s;
  if (per_tensor) {
    for (float& v : wscale) v /= a.scale[0];
  } else {
    dq_scale = b.const_floats(adims, std::vector<float>(static_cast<std::size_t>(cin), 1.0f));
  }
  GemmInputs out;
  out.x = qdq_node(b, "DequantizeLinear", quantized, dq_scale, z, !per_tensor, channel_axis);
  out.weight =
      qdq_node(b, "DequantizeLinear", b.const_int8(what + ".weight_quantized", dims, q),
               b.const_floats({cout}, wscale),
               b.const_int8("zero_point", {cout}, std::vector<std::int8_t>(cout, 0)), true, 0);
  return out;
}

void QdqLayers::finish() const {
  if (next_ != layers_.size())
    throw Error("ONNX export of an int8 member: the int8 plan has " +
                std::to_string(layers_.size()) + " layers, the graph " + std::to_string(next_) +
                " GEMM layers; the plan belongs to another network");
  if (next_depthwise_ != depthwise_.size())
    throw Error("ONNX export of an int8 member: the int8 plan has " +
                std::to_string(depthwise_.size()) + " depthwise layers, the graph " +
                std::to_string(next_depthwise_) + "; the plan belongs to another network");
}

GemmInputs gemm_inputs(GraphBuilder& b, const std::string& x, const std::string& name,
                       const std::vector<std::int64_t>& dims, int channel_axis) {
  if (!b.int8) return {x, b.param(name, dims)};
  const std::string layer = name.substr(0, name.rfind(".weight"));
  return b.int8->next(b, x, channel_axis, layer, b.stored(name, dims).data, dims);
}

GemmInputs gemm_inputs(GraphBuilder& b, const std::string& x, const std::string& name,
                       const std::vector<float>& values, const std::vector<std::int64_t>& dims,
                       int channel_axis) {
  if (!b.int8) return {x, b.const_floats(dims, values)};
  return b.int8->next(b, x, channel_axis, name, values, dims);
}

}  // namespace hwnas::onnx_export
