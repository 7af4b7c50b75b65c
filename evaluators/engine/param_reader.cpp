#include "evaluators/engine/param_reader.h"

#include <cmath>

#include "core/error.h"

namespace hwnas {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

ParamReader ParamReader::from_store(const WeightStore& store) {
  ParamReader r;
  r.store_ = &store;
  return r;
}

ParamReader ParamReader::random(std::uint64_t seed) {
  ParamReader r;
  r.rng_.seed(seed);
  return r;
}

std::vector<float> ParamReader::get(const std::string& name, const std::vector<std::int64_t>& shape,
                                    InitKind kind) {
  const std::string full = prefix_ + name;
  std::size_t count = 1;
  for (auto d : shape) count *= static_cast<std::size_t>(d);
  if (store_) {
    auto it = store_->tensors.find(full);
    if (it == store_->tensors.end())
      throw Error("weights: missing tensor '" + full + "' " + shape_string(shape) +
                  " needed by this architecture");
    if (it->second.shape != shape)
      throw Error("weights: tensor '" + full + "' has shape " + shape_string(it->second.shape) +
                  " but this architecture needs " + shape_string(shape));
    used_.insert(full);
    return it->second.data;
  }
  std::vector<float> v(count);
  auto uni = [&](double lo, double hi) {
    return static_cast<float>(lo + (hi - lo) * uniform_real(rng_));
  };
  double fan_in = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) fan_in *= static_cast<double>(shape[i]);
  const double a = std::sqrt(3.0 / std::max(1.0, fan_in));
  for (auto& x : v) {
    switch (kind) {
      case InitKind::weight:
        x = uni(-a, a);
        break;
      case InitKind::bias:
        x = uni(-0.1, 0.1);
        break;
      case InitKind::norm_weight:
        x = uni(0.8, 1.2);
        break;
      case InitKind::norm_bias:
        x = uni(-0.1, 0.1);
        break;
      case InitKind::running_mean:
        x = uni(-0.1, 0.1);
        break;
      case InitKind::running_var:
        x = uni(0.5, 1.5);
        break;
      case InitKind::layer_scale:
        x = uni(0.05, 0.3);
        break;
      case InitKind::attention_bias:
        x = uni(-1.0, 1.0);
        break;
    }
  }
  recorded_.tensors[full] = StoredTensor{shape, v};
  return v;
}

void ParamReader::check_all_used() const {
  if (!store_) return;
  for (const auto& [name, t] : store_->tensors) {
    if (used_.count(name) || ends_with(name, "num_batches_tracked") ||
        ends_with(name, "attention_bias_idxs"))
      continue;
    throw Error("weights: unexpected tensor '" + name +
                "' is not part of this architecture (wrong --arch, or weights of another model)");
  }
}

std::shared_ptr<TrainingBatchNorm> ParamReader::add_training_batchnorm(const std::string& name,
                                                                       std::vector<float> gamma,
                                                                       std::vector<float> beta,
                                                                       float eps) {
  training_batchnorms_.push_back(
      std::make_shared<TrainingBatchNorm>(prefix_ + name, std::move(gamma), std::move(beta), eps));
  return training_batchnorms_.back();
}

namespace {

// A BatchNorm of `c` channels for folding, y = (x - mean) * scale + beta (inference), or, when
// the reader keeps BNs in training mode, the identity with `train` set.
struct BnAffine {
  std::vector<double> mean, scale, beta;
  std::shared_ptr<TrainingBatchNorm> train;
  // The folded bias of a layer whose own bias is b, for output o (Jacob et al. 2018).
  float bias(double b, int o) const {
    return static_cast<float>((b - mean[o]) * scale[o] + beta[o]);
  }
};

BnAffine read_bn(ParamReader& r, const std::string& norm, int c, float eps) {
  auto g = r.get(norm + ".weight", {c}, InitKind::norm_weight);
  auto beta = r.get(norm + ".bias", {c}, InitKind::norm_bias);
  const auto mean = r.get(norm + ".running_mean", {c}, InitKind::running_mean);
  const auto var = r.get(norm + ".running_var", {c}, InitKind::running_var);
  BnAffine a{std::vector<double>(c, 0.0), std::vector<double>(c, 1.0), std::vector<double>(c, 0.0),
             nullptr};
  if (r.batchnorm_training()) {
    a.train = r.add_training_batchnorm(norm, std::move(g), std::move(beta), eps);
    return a;
  }
  for (int o = 0; o < c; ++o) {
    a.mean[o] = mean[o];
    a.scale[o] = g[o] / std::sqrt(static_cast<double>(var[o]) + eps);
    a.beta[o] = beta[o];
  }
  return a;
}

}  // namespace

FoldedConv read_conv_bn(ParamReader& r, const std::string& conv, const std::string& norm, int cin,
                        int cout, int k, float eps, bool conv_bias) {
  const auto w = r.get(conv + ".weight", {cout, cin, k, k}, InitKind::weight);
  const auto b = conv_bias ? r.get(conv + ".bias", {cout}, InitKind::bias)
                           : std::vector<float>(static_cast<std::size_t>(cout), 0.0f);
  const BnAffine bn = read_bn(r, norm, cout, eps);
  FoldedConv f;
  f.cin = cin;
  f.train = bn.train;
  f.weight = AlignedBuffer(static_cast<std::size_t>(k) * k * cin * cout);
  f.bias = AlignedBuffer(static_cast<std::size_t>(cout));
  for (int o = 0; o < cout; ++o) {
    const double s = bn.scale[o];
    f.bias[o] = bn.bias(b[o], o);
    for (int i = 0; i < cin; ++i)
      for (int y = 0; y < k; ++y)
        for (int x = 0; x < k; ++x)
          f.weight[((static_cast<std::size_t>(y) * k + x) * cin + i) * cout + o] =
              static_cast<float>(w[((static_cast<std::size_t>(o) * cin + i) * k + y) * k + x] * s);
  }
  f.repack();
  return f;
}

FoldedConv read_conv(ParamReader& r, const std::string& conv, int cin, int cout, int k) {
  const auto w = r.get(conv + ".weight", {cout, cin, k, k}, InitKind::weight);
  FoldedConv f;
  f.cin = cin;
  f.bias = to_buffer(r.get(conv + ".bias", {cout}, InitKind::bias));
  f.weight = AlignedBuffer(static_cast<std::size_t>(k) * k * cin * cout);
  for (int o = 0; o < cout; ++o)
    for (int i = 0; i < cin; ++i)
      for (int y = 0; y < k; ++y)
        for (int x = 0; x < k; ++x)
          f.weight[((static_cast<std::size_t>(y) * k + x) * cin + i) * cout + o] =
              w[((static_cast<std::size_t>(o) * cin + i) * k + y) * k + x];
  f.repack();
  return f;
}

void FoldedConv::repack() {
  const int cout = static_cast<int>(bias.size());
  const int rows = static_cast<int>(weight.size() / bias.size());
  packed = PackedWeights(weight.data(), rows, cout, cout, cin > 0 && rows % cin == 0 ? cin : 0);
}

AlignedBuffer transpose_linear(const std::vector<float>& w, int out, int in) {
  AlignedBuffer t(static_cast<std::size_t>(out) * in);
  for (int o = 0; o < out; ++o)
    for (int i = 0; i < in; ++i)
      t[static_cast<std::size_t>(i) * out + o] = w[static_cast<std::size_t>(o) * in + i];
  return t;
}

LinearWeights read_linear(ParamReader& r, const std::string& name, int in, int out, bool has_bias) {
  LinearWeights l;
  l.weight = transpose_linear(r.get(name + ".weight", {out, in}, InitKind::weight), out, in);
  if (has_bias) l.bias = to_buffer(r.get(name + ".bias", {out}, InitKind::bias));
  l.repack(in, out);
  return l;
}

LinearWeights read_linear_bn(ParamReader& r, const std::string& name, const std::string& norm,
                             int in, int out, float eps) {
  LinearWeights l = read_linear(r, name, in, out);
  const BnAffine bn = read_bn(r, norm, out, eps);
  l.train = bn.train;
  if (l.train) return l;
  for (int o = 0; o < out; ++o) {
    for (int i = 0; i < in; ++i) {
      float& w = l.weight[static_cast<std::size_t>(i) * out + o];
      w = static_cast<float>(w * bn.scale[o]);
    }
    l.bias[o] = bn.bias(l.bias[o], o);
  }
  l.repack(in, out);
  return l;
}

AlignedBuffer to_buffer(const std::vector<float>& v) {
  AlignedBuffer b(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) b[i] = v[i];
  return b;
}

}  // namespace hwnas
