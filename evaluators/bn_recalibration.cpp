#include "evaluators/bn_recalibration.h"

#include <map>
#include <string>
#include <vector>

#include "evaluators/model.h"
#include "evaluators/ops/activation.h"
#include "evaluators/ops/batch_norm.h"
#include "evaluators/ops/conv2d.h"
#include "evaluators/ops/linear.h"
#include "evaluators/ops/pool_mixer.h"
#include "evaluators/ops/scale_add.h"
#include "evaluators/param_reader.h"
#include "spaces/error.h"

namespace hwnas {

namespace {

constexpr float kBnEps = 1e-5f;

std::string shape_str(const std::vector<std::int64_t>& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + ")";
}

const StoredTensor& tensor(const WeightStore& ws, const std::string& name,
                           const std::vector<std::int64_t>& shape) {
  if (!ws.contains(name)) throw Error("BN recalibration: weights have no tensor '" + name + "'");
  const StoredTensor& t = ws.at(name);
  if (t.shape != shape)
    throw Error("BN recalibration: tensor '" + name + "' has shape " + shape_str(t.shape) +
                ", expected " + shape_str(shape));
  return t;
}

// A convolution without its BatchNorm folded in: the BN runs separately in training mode.
struct RawConv {
  Conv2dParams p;
  AlignedBuffer bias;
  PackedWeights packed;
};

RawConv raw_conv(const WeightStore& ws, const std::string& name, Conv2dParams p) {
  const int k = p.kernel;
  const auto& w = tensor(ws, name + ".weight", {p.cout, p.cin, k, k}).data;
  AlignedBuffer hwio(static_cast<std::size_t>(k) * k * p.cin * p.cout);
  for (int o = 0; o < p.cout; ++o)
    for (int i = 0; i < p.cin; ++i)
      for (int y = 0; y < k; ++y)
        for (int x = 0; x < k; ++x)
          hwio[((static_cast<std::size_t>(y) * k + x) * p.cin + i) * p.cout + o] =
              w[((static_cast<std::size_t>(o) * p.cin + i) * k + y) * k + x];
  RawConv c{p, to_buffer(tensor(ws, name + ".bias", {p.cout}).data),
            PackedWeights(hwio.data(), k * k * p.cin, p.cout, p.cout)};
  return c;
}

// Running sums of the per-batch statistics of every BN, in timm names.
class Calibrator {
 public:
  explicit Calibrator(const WeightStore& ws) : ws_(ws) {}

  // Training-mode BN `name` on x in place, then `act`.
  void bn(const std::string& name, Tensor& x, Activation act) {
    const std::int64_t c = x.c();
    const auto& g = tensor(ws_, name + ".weight", {c}).data;
    const auto& b = tensor(ws_, name + ".bias", {c}).data;
    const BatchStats s = batch_norm_train(x, g.data(), b.data(), kBnEps, x);
    Sums& sum = sums_[name];
    if (sum.mean.empty()) sum.mean.assign(c, 0.0), sum.var.assign(c, 0.0);
    for (std::int64_t i = 0; i < c; ++i) sum.mean[i] += s.mean[i], sum.var[i] += s.var_unbiased[i];
    ++sum.batches;
    apply_activation(act, x.data(), x.size());
  }

  Tensor conv_bn(const RawConv& conv, const std::string& norm, const Tensor& in, Activation act) {
    const auto& p = conv.p;
    Tensor out(in.n(), conv_out_size(in.h(), p.kernel, p.stride, p.pad),
               conv_out_size(in.w(), p.kernel, p.stride, p.pad), p.cout);
    conv2d(p, in, conv.packed, conv.bias.data(), out);
    bn(norm, out, act);
    return out;
  }

  WeightStore result() const {
    WeightStore out;
    for (const auto& [name, s] : sums_) {
      StoredTensor m{{static_cast<std::int64_t>(s.mean.size())}, {}}, v = m;
      for (std::size_t i = 0; i < s.mean.size(); ++i) {
        m.data.push_back(static_cast<float>(s.mean[i] / s.batches));
        v.data.push_back(static_cast<float>(s.var[i] / s.batches));
      }
      out.tensors[name + ".running_mean"] = std::move(m);
      out.tensors[name + ".running_var"] = std::move(v);
    }
    return out;
  }

  const WeightStore& weights() const { return ws_; }

 private:
  struct Sums {
    std::vector<double> mean, var;
    int batches = 0;
  };
  const WeightStore& ws_;
  std::map<std::string, Sums> sums_;
};

using Step = std::function<Tensor(Calibrator&, const Tensor&)>;

// The training-mode forward of one EfficientFormer block with BN (timm's Stem4, Downsample and
// Meta4D), with its weights unpacked once. Null for kinds without BN.
Step bn_step(const BlockSpec& spec, const std::string& prefix, const WeightStore& ws) {
  switch (spec.kind) {
    case BlockKind::stem: {
      const int cin = spec.get("cin"), c = spec.get("c");
      auto c1 = std::make_shared<RawConv>(raw_conv(ws, prefix + "conv1", {cin, c / 2, 3, 2, 1}));
      auto c2 = std::make_shared<RawConv>(raw_conv(ws, prefix + "conv2", {c / 2, c, 3, 2, 1}));
      return [=](Calibrator& cal, const Tensor& x) {
        const Tensor mid = cal.conv_bn(*c1, prefix + "norm1", x, Activation::relu);
        return cal.conv_bn(*c2, prefix + "norm2", mid, Activation::relu);
      };
    }
    case BlockKind::downsample: {
      auto conv = std::make_shared<RawConv>(
          raw_conv(ws, prefix + "conv", {spec.get("cin"), spec.get("c"), 3, 2, 1}));
      return [=](Calibrator& cal, const Tensor& x) {
        return cal.conv_bn(*conv, prefix + "norm", x, Activation::none);
      };
    }
    case BlockKind::meta4d: {
      const int c = spec.get("c"), hid = c * spec.get("mlp");
      const PoolMixerParams pool{c, spec.get("pool")};
      auto ls1 = std::make_shared<AlignedBuffer>(to_buffer(tensor(ws, prefix + "ls1.gamma", {c}).data));
      auto ls2 = std::make_shared<AlignedBuffer>(to_buffer(tensor(ws, prefix + "ls2.gamma", {c}).data));
      auto fc1 = std::make_shared<RawConv>(raw_conv(ws, prefix + "mlp.fc1", {c, hid, 1, 1, 0}));
      auto fc2 = std::make_shared<RawConv>(raw_conv(ws, prefix + "mlp.fc2", {hid, c, 1, 1, 0}));
      return [=](Calibrator& cal, const Tensor& x) {
        Tensor mixed(x.n(), x.h(), x.w(), c), hidden(x.n(), x.h(), x.w(), hid);
        Tensor branch(x.n(), x.h(), x.w(), c), out(x.n(), x.h(), x.w(), c);
        pool_mixer(pool, x, ls1->data(), mixed);
        linear({c, hid, Activation::none}, mixed, fc1->packed, fc1->bias.data(), nullptr, hidden);
        cal.bn(prefix + "mlp.norm1", hidden, Activation::gelu);
        linear({hid, c, Activation::none}, hidden, fc2->packed, fc2->bias.data(), nullptr, branch);
        cal.bn(prefix + "mlp.norm2", branch, Activation::none);
        scale_add(mixed, ls2->data(), branch, out);
        return out;
      };
    }
    default: return nullptr;
  }
}

}  // namespace

WeightStore recalibrate_batchnorm(const Network& net, const WeightStore& weights,
                                  std::size_t batches,
                                  const std::function<Tensor(std::size_t)>& batch) {
  if (batches == 0) throw Error("BN recalibration needs at least one batch");
  const std::vector<std::string> prefixes = timm_prefixes(net);
  std::vector<Step> steps;
  for (std::size_t i = 0; i < net.blocks.size(); ++i) steps.push_back(bn_step(net.blocks[i], prefixes[i], weights));
  std::size_t last = steps.size();
  for (std::size_t i = 0; i < steps.size(); ++i)
    if (steps[i]) last = i;
  if (last == steps.size()) return {};  // no BatchNorm at all
  for (std::size_t i = 0; i <= last; ++i)
    if (!steps[i])
      throw Error("BN recalibration cannot run block kind '" +
                  std::string(block_kind_name(net.blocks[i].kind)) + "' ahead of a BatchNorm");
  Calibrator cal(weights);
  for (std::size_t b = 0; b < batches; ++b) {
    Tensor x = batch(b);
    if (x.h() != net.input.h || x.w() != net.input.w || x.c() != net.input.c || x.n() < 1)
      throw Error("BN recalibration batch " + std::to_string(b) + " must be NHWC (B, " +
                  std::to_string(net.input.h) + ", " + std::to_string(net.input.w) + ", " +
                  std::to_string(net.input.c) + ")");
    for (std::size_t i = 0; i <= last; ++i) x = steps[i](cal, x);
  }
  return cal.result();
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
