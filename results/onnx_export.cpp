#include "results/onnx_export.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <cmath>
#include <cstring>
#include <set>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "evaluators/model.h"
#include "spaces/error.h"

namespace hwnas {
namespace {

// Adds nodes and initializers to a graph with unique intermediate names.
class GraphBuilder {
 public:
  GraphBuilder(onnx::GraphProto& g, const WeightStore& w, bool portable_ops)
      : portable(portable_ops), g_(g), w_(w) {}

  const bool portable;

  // A timm parameter as an initializer (once), checked against `shape`.
  std::string param(const std::string& name, const std::vector<std::int64_t>& shape) {
    const auto it = w_.tensors.find(name);
    if (it == w_.tensors.end()) throw Error("ONNX export: weight '" + name + "' is missing");
    if (it->second.shape != shape) {
      std::string s;
      for (auto d : shape) s += (s.empty() ? "" : ",") + std::to_string(d);
      throw Error("ONNX export: weight '" + name + "' has the wrong shape (expected (" + s + "))");
    }
    if (added_.insert(name).second) {
      auto* t = g_.add_initializer();
      t->set_name(name);
      t->set_data_type(onnx::TensorProto::FLOAT);
      for (auto d : shape) t->add_dims(d);
      t->set_raw_data(std::string(reinterpret_cast<const char*>(it->second.data.data()),
                                  it->second.data.size() * sizeof(float)));
    }
    return name;
  }

  std::string const_floats(const std::vector<std::int64_t>& dims, const std::vector<float>& v) {
    const std::string name = fresh("const");
    auto* t = g_.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    for (float x : v) t->add_float_data(x);
    return name;
  }

  std::string const_ints(const std::vector<std::int64_t>& dims, const std::vector<std::int64_t>& v) {
    const std::string name = fresh("const");
    auto* t = g_.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    for (auto d : dims) t->add_dims(d);
    for (auto x : v) t->add_int64_data(x);
    return name;
  }

  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& in, std::string& out) {
    out = fresh(op);
    auto* n = g_.add_node();
    n->set_op_type(op);
    n->set_name(out);
    for (const auto& i : in) n->add_input(i);
    n->add_output(out);
    return n;
  }

  std::string op(const std::string& op, const std::vector<std::string>& in) {
    std::string out;
    node(op, in, out);
    return out;
  }

  static void ints(onnx::NodeProto* n, const std::string& name, const std::vector<std::int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
  static void integer(onnx::NodeProto* n, const std::string& name, std::int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void real(onnx::NodeProto* n, const std::string& name, float v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }

  int nodes() const { return g_.node_size(); }
  const WeightStore& weights() const { return w_; }

 private:
  std::string fresh(const std::string& stem) { return stem + "_" + std::to_string(counter_++); }

  onnx::GraphProto& g_;
  const WeightStore& w_;
  std::set<std::string> added_;
  int counter_ = 0;
};

constexpr float kNormEps = 1e-5f;

const StoredTensor& weights_of(const GraphBuilder& b, const std::string& name) { return b.weights().at(name); }  // timm's BatchNorm2d and LayerNorm defaults

// Conv (with bias) + BatchNormalization (+ Relu), NCHW.
std::string conv_bn(GraphBuilder& b, const std::string& x, const std::string& conv,
                    const std::string& bn, std::int64_t cin, std::int64_t cout, int k, int stride,
                    bool relu) {
  std::string y;
  auto* n = b.node("Conv", {x, b.param(conv + ".weight", {cout, cin, k, k}), b.param(conv + ".bias", {cout})}, y);
  GraphBuilder::ints(n, "kernel_shape", {k, k});
  GraphBuilder::ints(n, "strides", {stride, stride});
  const std::int64_t p = k / 2;
  GraphBuilder::ints(n, "pads", {p, p, p, p});
  std::string z;
  auto* bnn = b.node("BatchNormalization",
                     {y, b.param(bn + ".weight", {cout}), b.param(bn + ".bias", {cout}),
                      b.param(bn + ".running_mean", {cout}), b.param(bn + ".running_var", {cout})},
                     z);
  GraphBuilder::real(bnn, "epsilon", kNormEps);
  return relu ? b.op("Relu", {z}) : z;
}

// GELU, erf form as PyTorch's default: 0.5 * x * (1 + erf(x / sqrt(2))).
std::string gelu(GraphBuilder& b, const std::string& x) {
  const std::string e = b.op("Erf", {b.op("Div", {x, b.const_floats({1}, {std::sqrt(2.0f)})})});
  const std::string one_plus = b.op("Add", {e, b.const_floats({1}, {1.0f})});
  return b.op("Mul", {b.op("Mul", {x, one_plus}), b.const_floats({1}, {0.5f})});
}

// Per-channel layer scale of an NCHW map: gamma (C) reshaped to (C, 1, 1).
std::string layer_scale_nchw(GraphBuilder& b, const std::string& x, const std::string& gamma, std::int64_t c) {
  const std::string g = b.op("Reshape", {b.param(gamma, {c}), b.const_ints({3}, {c, 1, 1})});
  return b.op("Mul", {x, g});
}

std::string layer_norm(GraphBuilder& b, const std::string& x, const std::string& name, std::int64_t c) {
  if (b.portable) {
    // (x - mean) / sqrt(var + eps) * gamma + beta over the last axis.
    auto mean_last = [&](const std::string& v) {
      std::string m;
      GraphBuilder::ints(b.node("ReduceMean", {v}, m), "axes", {2});  // tokens (B, N, C)
      return m;
    };
    const std::string centred = b.op("Sub", {x, mean_last(x)});
    const std::string var = mean_last(b.op("Mul", {centred, centred}));
    const std::string denom = b.op("Sqrt", {b.op("Add", {var, b.const_floats({1}, {kNormEps})})});
    const std::string normed = b.op("Div", {centred, denom});
    return b.op("Add", {b.op("Mul", {normed, b.param(name + ".weight", {c})}), b.param(name + ".bias", {c})});
  }
  std::string y;
  auto* n = b.node("LayerNormalization", {x, b.param(name + ".weight", {c}), b.param(name + ".bias", {c})}, y);
  GraphBuilder::integer(n, "axis", -1);
  GraphBuilder::real(n, "epsilon", kNormEps);
  return y;
}

// x (..., in) @ W^T + b with a PyTorch Linear weight (out, in).
std::string linear(GraphBuilder& b, const std::string& x, const std::string& name, std::int64_t in,
                   std::int64_t out) {
  std::string wt;
  auto* t = b.node("Transpose", {b.param(name + ".weight", {out, in})}, wt);
  GraphBuilder::ints(t, "perm", {1, 0});
  return b.op("Add", {b.op("MatMul", {x, wt}), b.param(name + ".bias", {out})});
}

std::string meta4d(GraphBuilder& b, const std::string& x, const std::string& p, const BlockSpec& s) {
  const std::int64_t c = s.get("c"), hid = c * s.get("mlp"), k = s.get("pool");
  std::string pooled;
  auto* pool = b.node("AveragePool", {x}, pooled);
  GraphBuilder::ints(pool, "kernel_shape", {k, k});
  GraphBuilder::ints(pool, "strides", {1, 1});
  GraphBuilder::ints(pool, "pads", {k / 2, k / 2, k / 2, k / 2});
  GraphBuilder::integer(pool, "count_include_pad", 0);
  std::string y = b.op("Add", {x, layer_scale_nchw(b, b.op("Sub", {pooled, x}), p + "ls1.gamma", c)});
  std::string h = conv_bn(b, y, p + "mlp.fc1", p + "mlp.norm1", c, hid, 1, 1, false);
  h = conv_bn(b, gelu(b, h), p + "mlp.fc2", p + "mlp.norm2", hid, c, 1, 1, false);
  return b.op("Add", {y, layer_scale_nchw(b, h, p + "ls2.gamma", c)});
}

std::string meta3d(GraphBuilder& b, const std::string& x, const std::string& p, const BlockSpec& s,
                   int batch) {
  const std::int64_t c = s.get("c"), gh = s.get("h"), gw = s.get("w"), n = gh * gw;
  const std::int64_t heads = s.get("heads"), kd = s.get("kd"), dv = kd * s.get("ar");
  const std::int64_t hid = c * s.get("mlp");
  // Attention: qkv is split per head first (timm's layout), then into q, k, v.
  std::string qkv = linear(b, layer_norm(b, x, p + "norm1", c), p + "token_mixer.qkv", c, heads * (2 * kd + dv));
  qkv = b.op("Reshape", {qkv, b.const_ints({4}, {batch, n, heads, 2 * kd + dv})});
  std::string qkvt;
  GraphBuilder::ints(b.node("Transpose", {qkv}, qkvt), "perm", {0, 2, 1, 3});
  auto* split = b.node("Split", {qkvt, b.const_ints({3}, {kd, kd, dv})}, qkvt);
  GraphBuilder::integer(split, "axis", 3);
  const std::string q = split->output(0);
  split->add_output(q + "_k");
  split->add_output(q + "_v");
  std::string kt;
  GraphBuilder::ints(b.node("Transpose", {q + "_k"}, kt), "perm", {0, 1, 3, 2});
  std::string attn = b.op("Mul", {b.op("MatMul", {q, kt}), b.const_floats({1}, {1.0f / std::sqrt(float(kd))})});
  // Bias[head, |drow| * w + |dcol|] gathered over every token pair.
  std::vector<std::int64_t> idx;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      idx.push_back(std::abs(i / gw - j / gw) * gw + std::abs(i % gw - j % gw));
  const std::string table = b.param(p + "token_mixer.attention_biases", {heads, n});
  std::string bias;
  if (b.portable) {
    // Gathered here: importers without tensor-index Gather (OpenCV 4.6) get a plain constant.
    const auto& t = weights_of(b, p + "token_mixer.attention_biases");
    std::vector<float> full(static_cast<std::size_t>(heads * n * n));
    for (std::int64_t hd = 0; hd < heads; ++hd)
      for (std::int64_t pair = 0; pair < n * n; ++pair)
        full[static_cast<std::size_t>(hd * n * n + pair)] = t.data[static_cast<std::size_t>(hd * n + idx[pair])];
    bias = b.const_floats({heads, n, n}, full);
  } else {
    GraphBuilder::integer(b.node("Gather", {table, b.const_ints({n, n}, idx)}, bias), "axis", 1);
  }
  attn = b.op("Add", {attn, bias});
  std::string soft;
  GraphBuilder::integer(b.node("Softmax", {attn}, soft), "axis", -1);
  std::string o;
  GraphBuilder::ints(b.node("Transpose", {b.op("MatMul", {soft, q + "_v"})}, o), "perm", {0, 2, 1, 3});
  o = b.op("Reshape", {o, b.const_ints({3}, {batch, n, heads * dv})});
  o = linear(b, o, p + "token_mixer.proj", heads * dv, c);
  std::string y = b.op("Add", {x, b.op("Mul", {o, b.param(p + "ls1.gamma", {c})})});
  std::string h = linear(b, layer_norm(b, y, p + "norm2", c), p + "mlp.fc1", c, hid);
  h = linear(b, gelu(b, h), p + "mlp.fc2", hid, c);
  return b.op("Add", {y, b.op("Mul", {h, b.param(p + "ls2.gamma", {c})})});
}

std::string head(GraphBuilder& b, const std::string& x, const BlockSpec& s, int batch) {
  const std::int64_t c = s.get("c"), classes = s.get("classes");
  std::string pooled;
  auto* mean = b.node("ReduceMean", {layer_norm(b, x, "norm", c)}, pooled);
  GraphBuilder::ints(mean, "axes", {1});
  GraphBuilder::integer(mean, "keepdims", 0);
  // With a distillation head, the two classifiers are averaged as timm does at inference; the
  // 1/2 goes into each Gemm's alpha and beta (exact in binary floating point).
  const float scale = s.get("dist") ? 0.5f : 1.0f;
  auto classifier = [&](const std::string& name) {
    std::string y;
    auto* g = b.node("Gemm", {pooled, b.param(name + ".weight", {classes, c}), b.param(name + ".bias", {classes})}, y);
    GraphBuilder::integer(g, "transB", 1);
    GraphBuilder::real(g, "alpha", scale);
    GraphBuilder::real(g, "beta", scale);
    return y;
  };
  if (s.get("dist") == 0) return classifier("head");
  return b.op("Add", {classifier("head"), classifier("head_dist")});
}

void set_tensor_type(onnx::ValueInfoProto* v, const std::string& name, const std::vector<std::int64_t>& dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = t->mutable_shape();
  for (auto d : dims) shape->add_dim()->set_dim_value(d);
}

}  // namespace

onnx::ModelProto build_onnx_model(const Network& net, const WeightStore& weights,
                                  const OnnxExportOptions& options) {
  const int batch = options.batch;
  if (batch < 1) throw Error("ONNX export: batch must be >= 1");
  net.check_shapes();
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("hwnas");
  model.set_producer_version("0.1.0");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  auto* g = model.mutable_graph();
  g->set_name(net.space);
  set_tensor_type(g->add_input(), "input", {batch, net.input.c, net.input.h, net.input.w});
  GraphBuilder b(*g, weights, options.portable);
  const auto prefixes = timm_prefixes(net);
  std::string x = "input";
  for (std::size_t i = 0; i < net.blocks.size(); ++i) {
    const BlockSpec& s = net.blocks[i];
    const std::string& p = prefixes[i];
    switch (s.kind) {
      case BlockKind::stem: {
        const std::int64_t c = s.get("c");
        x = conv_bn(b, x, p + "conv1", p + "norm1", s.get("cin"), c / 2, 3, 2, true);
        x = conv_bn(b, x, p + "conv2", p + "norm2", c / 2, c, 3, 2, true);
        break;
      }
      case BlockKind::downsample:
        x = conv_bn(b, x, p + "conv", p + "norm", s.get("cin"), s.get("c"), 3, 2, false);
        break;
      case BlockKind::meta4d:
        x = meta4d(b, x, p, s);
        break;
      case BlockKind::flatten: {
        // NCHW (B, C, H, W) -> tokens (B, H*W, C).
        x = b.op("Reshape", {x, b.const_ints({3}, {batch, s.get("c"), std::int64_t{s.get("h")} * s.get("w")})});
        std::string t;
        GraphBuilder::ints(b.node("Transpose", {x}, t), "perm", {0, 2, 1});
        x = t;
        break;
      }
      case BlockKind::meta3d:
        x = meta3d(b, x, p, s, batch);
        break;
      case BlockKind::head:
        x = head(b, x, s, batch);
        break;
      default:
        throw Error("ONNX export: block kind '" + std::string(block_kind_name(s.kind)) +
                    "' has no ONNX lowering yet");
    }
    // Every block's output gets a stable name ("block3"), so that a runtime can be asked for
    // it when a mismatch must be located.
    if (i + 1 < net.blocks.size()) {
      x = "block" + std::to_string(i);
      g->mutable_node(g->node_size() - 1)->set_output(0, x);
      g->mutable_node(g->node_size() - 1)->set_name(x);
    }
  }
  // The head's last node produces the graph output directly (an Identity trips OpenCV 4.6).
  g->mutable_node(g->node_size() - 1)->set_output(0, "logits");
  set_tensor_type(g->add_output(), "logits", {batch, net.num_classes()});
  return model;
}

OnnxExportInfo export_onnx(const Network& net, const WeightStore& weights, const std::string& path,
                           const OnnxExportOptions& options) {
  onnx::ModelProto model = build_onnx_model(net, weights, options);
  try {
    onnx::checker::check_model(model);
    onnx::shape_inference::InferShapes(model);
  } catch (const std::exception& e) {
    throw Error(std::string("ONNX export: the model fails ONNX's checker: ") + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw Error("ONNX export: serialisation failed");
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.good()) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw Error("cannot write '" + path + "': check the directory exists and is writable");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw Error("cannot write '" + path + "': " + ec.message());
  }
  OnnxExportInfo info{path, model.graph().node_size(), model.graph().initializer_size(), 0};
  for (const auto& t : model.graph().initializer())
    if (t.data_type() == onnx::TensorProto::FLOAT && weights.contains(t.name()))
      info.parameters += static_cast<std::int64_t>(t.has_raw_data() ? t.raw_data().size() / 4 : t.float_data_size());
  return info;
}

WeightStore read_onnx_initializers(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read ONNX model '" + path + "'");
  onnx::ModelProto model;
  if (!model.ParseFromIstream(&in)) throw Error("'" + path + "' is not an ONNX model");
  WeightStore store;
  for (const auto& t : model.graph().initializer()) {
    if (t.data_type() != onnx::TensorProto::FLOAT) continue;
    StoredTensor st;
    for (auto d : t.dims()) st.shape.push_back(d);
    if (t.has_raw_data()) {
      st.data.resize(t.raw_data().size() / sizeof(float));
      std::memcpy(st.data.data(), t.raw_data().data(), st.data.size() * sizeof(float));
    } else {
      st.data.assign(t.float_data().begin(), t.float_data().end());
    }
    store.tensors.emplace(t.name(), std::move(st));
  }
  return store;
}

}  // namespace hwnas
