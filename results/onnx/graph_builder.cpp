#include "results/onnx/graph_builder.h"

#include <onnx/onnx_pb.h>

#include <cmath>

#include "core/error.h"
#include "results/onnx/qdq.h"

namespace hwnas::onnx_export {

GraphBuilder::GraphBuilder(onnx::GraphProto& g, const WeightStore& w, int batch_size,
                           bool portable_ops)
    : portable(portable_ops), batch(batch_size), g_(g), w_(w) {}

std::string GraphBuilder::param(const std::string& name, const std::vector<std::int64_t>& shape) {
  const StoredTensor& value = stored(name, shape);
  if (added_.insert(name).second) {
    auto* t = g_.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : shape) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(value.data.data()),
                                value.data.size() * sizeof(float)));
  }
  return name;
}

const StoredTensor& GraphBuilder::stored(const std::string& name) const {
  const auto it = w_.tensors.find(name);
  if (it == w_.tensors.end()) throw Error("ONNX export: weight '" + name + "' is missing");
  return it->second;
}

const StoredTensor& GraphBuilder::stored(const std::string& name,
                                         const std::vector<std::int64_t>& shape) const {
  const StoredTensor& t = stored(name);
  if (t.shape != shape)
    throw Error("ONNX export: weight '" + name + "' has the wrong shape (expected " +
                shape_string(shape) + ", stored " + shape_string(t.shape) + ")");
  return t;
}

std::string GraphBuilder::const_floats(const std::vector<std::int64_t>& dims,
                                       const std::vector<float>& v) {
  const std::string name = fresh("const");
  auto* t = g_.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) t->add_dims(d);
  for (float x : v) t->add_float_data(x);
  return name;
}

std::string GraphBuilder::const_ints(const std::vector<std::int64_t>& dims,
                                     const std::vector<std::int64_t>& v) {
  const std::string name = fresh("const");
  auto* t = g_.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (auto d : dims) t->add_dims(d);
  for (auto x : v) t->add_int64_data(x);
  return name;
}

namespace {
template <typename T>
std::string add_bytes(onnx::GraphProto& g, const std::string& name, int type,
                      const std::vector<std::int64_t>& dims, const std::vector<T>& v) {
  auto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (auto d : dims) t->add_dims(d);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)));
  return name;
}
}  // namespace

std::string GraphBuilder::const_int8(const std::string& stem, const std::vector<std::int64_t>& dims,
                                     const std::vector<std::int8_t>& v) {
  return add_bytes(g_, fresh(stem), onnx::TensorProto::INT8, dims, v);
}

std::string GraphBuilder::const_uint8(const std::vector<std::int64_t>& dims,
                                      const std::vector<std::uint8_t>& v) {
  return add_bytes(g_, fresh("zero_point"), onnx::TensorProto::UINT8, dims, v);
}

onnx::NodeProto* GraphBuilder::node(const std::string& op, const std::vector<std::string>& in,
                                    std::string& out) {
  out = fresh(op);
  auto* n = g_.add_node();
  n->set_op_type(op);
  n->set_name(out);
  for (const auto& i : in) n->add_input(i);
  n->add_output(out);
  return n;
}

std::string GraphBuilder::op(const std::string& op, const std::vector<std::string>& in) {
  std::string out;
  node(op, in, out);
  return out;
}

void GraphBuilder::ints(onnx::NodeProto* n, const std::string& name,
                        const std::vector<std::int64_t>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}

void GraphBuilder::integer(onnx::NodeProto* n, const std::string& name, std::int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

void GraphBuilder::real(onnx::NodeProto* n, const std::string& name, float v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

std::string reshape(GraphBuilder& b, const std::string& x, const std::vector<std::int64_t>& dims) {
  return b.op("Reshape", {x, b.const_ints({static_cast<std::int64_t>(dims.size())}, dims)});
}

std::string transpose(GraphBuilder& b, const std::string& x,
                      const std::vector<std::int64_t>& perm) {
  std::string y;
  GraphBuilder::ints(b.node("Transpose", {x}, y), "perm", perm);
  return y;
}

std::string conv(GraphBuilder& b, const std::string& x, const std::string& name, std::int64_t cin,
                 std::int64_t cout, int k, int stride, int pad, std::int64_t groups, bool bias) {
  // A one-group convolution is a GEMM layer, one with a group per channel a depthwise layer:
  // both are int8 in int8 members (qdq.h). Other grouped convolutions do not occur.
  std::vector<std::string> in;
  if (groups == 1) {
    const GemmInputs ops = gemm_inputs(b, x, name + ".weight", {cout, cin, k, k}, 1);
    in = {ops.x, ops.weight};
  } else if (b.int8 && groups == cin && groups == cout) {
    const std::vector<std::int64_t> dims{cout, 1, k, k};
    const GemmInputs ops =
        b.int8->next_depthwise(b, x, name, b.stored(name + ".weight", dims).data, dims);
    in = {ops.x, ops.weight};
  } else {
    in = {x, b.param(name + ".weight", {cout, cin / groups, k, k})};
  }
  if (bias) in.push_back(b.param(name + ".bias", {cout}));
  std::string y;
  auto* n = b.node("Conv", in, y);
  GraphBuilder::ints(n, "kernel_shape", {k, k});
  GraphBuilder::ints(n, "strides", {stride, stride});
  GraphBuilder::ints(n, "pads", {pad, pad, pad, pad});
  if (groups != 1) GraphBuilder::integer(n, "group", groups);
  return y;
}

std::string batch_norm(GraphBuilder& b, const std::string& x, const std::string& name,
                       std::int64_t c, float eps) {
  std::string y;
  auto* n = b.node("BatchNormalization",
                   {x, b.param(name + ".weight", {c}), b.param(name + ".bias", {c}),
                    b.param(name + ".running_mean", {c}), b.param(name + ".running_var", {c})},
                   y);
  GraphBuilder::real(n, "epsilon", eps);
  return y;
}

std::string linear(GraphBuilder& b, const std::string& x, const std::string& name, std::int64_t in,
                   std::int64_t out, bool bias) {
  const GemmInputs ops = gemm_inputs(b, x, name + ".weight", {out, in}, -1);
  const std::string y = b.op("MatMul", {ops.x, transpose(b, ops.weight, {1, 0})});
  return bias ? b.op("Add", {y, b.param(name + ".bias", {out})}) : y;
}

std::string classifier(GraphBuilder& b, const std::string& x, const std::string& name,
                       std::int64_t in, std::int64_t out, float scale) {
  const GemmInputs ops = gemm_inputs(b, x, name + ".weight", {out, in}, 1);
  std::string y;
  auto* g = b.node("Gemm", {ops.x, ops.weight, b.param(name + ".bias", {out})}, y);
  GraphBuilder::integer(g, "transB", 1);
  if (scale != 1) {
    GraphBuilder::real(g, "alpha", scale);
    GraphBuilder::real(g, "beta", scale);
  }
  return y;
}

std::string reduce_mean(GraphBuilder& b, const std::string& x,
                        const std::vector<std::int64_t>& axes, bool keep) {
  std::string m;
  auto* n = b.node("ReduceMean", {x}, m);
  GraphBuilder::ints(n, "axes", axes);
  GraphBuilder::integer(n, "keepdims", keep ? 1 : 0);
  return m;
}

namespace {
// (x - mean) / sqrt(var + eps) over `axes` (biased variance, two passes as the engine).
std::string normalise(GraphBuilder& b, const std::string& x, const std::vector<std::int64_t>& axes,
                      float eps) {
  const std::string centred = b.op("Sub", {x, reduce_mean(b, x, axes, true)});
  const std::string var = reduce_mean(b, b.op("Mul", {centred, centred}), axes, true);
  const std::string denom = b.op("Sqrt", {b.op("Add", {var, b.const_floats({1}, {eps})})});
  return b.op("Div", {centred, denom});
}
}  // namespace

std::string layer_norm(GraphBuilder& b, const std::string& x, const std::string& name,
                       std::int64_t c, float eps, int rank) {
  if (b.portable) {
    const std::string normed = normalise(b, x, {rank - 1}, eps);
    return b.op("Add", {b.op("Mul", {normed, b.param(name + ".weight", {c})}),
                        b.param(name + ".bias", {c})});
  }
  std::string y;
  auto* n = b.node("LayerNormalization",
                   {x, b.param(name + ".weight", {c}), b.param(name + ".bias", {c})}, y);
  GraphBuilder::integer(n, "axis", -1);
  GraphBuilder::real(n, "epsilon", eps);
  return y;
}

std::string sample_norm(GraphBuilder& b, const std::string& x, const std::string& name,
                        std::int64_t c, float eps) {
  const std::string normed = normalise(b, x, {1, 2}, eps);
  return b.op(
      "Add", {b.op("Mul", {normed, b.param(name + ".weight", {c})}), b.param(name + ".bias", {c})});
}

std::string gelu(GraphBuilder& b, const std::string& x) {
  const std::string e = b.op("Erf", {b.op("Div", {x, b.const_floats({1}, {std::sqrt(2.0f)})})});
  const std::string one_plus = b.op("Add", {e, b.const_floats({1}, {1.0f})});
  return b.op("Mul", {b.op("Mul", {x, one_plus}), b.const_floats({1}, {0.5f})});
}

std::string hardswish(GraphBuilder& b, const std::string& x) { return b.op("HardSwish", {x}); }

std::string hardsigmoid(GraphBuilder& b, const std::string& x) {
  std::string y;
  auto* n = b.node("HardSigmoid", {x}, y);
  GraphBuilder::real(n, "alpha", 1.0f / 6.0f);
  GraphBuilder::real(n, "beta", 0.5f);
  return y;
}

std::string map_to_tokens(GraphBuilder& b, const std::string& x, std::int64_t c, std::int64_t h,
                          std::int64_t w) {
  return transpose(b, reshape(b, x, {b.batch, c, h * w}), {0, 2, 1});
}

std::string tokens_to_map(GraphBuilder& b, const std::string& x, std::int64_t c, std::int64_t h,
                          std::int64_t w) {
  return reshape(b, transpose(b, x, {0, 2, 1}), {b.batch, c, h, w});
}

std::vector<std::string> split(GraphBuilder& b, const std::string& x, std::int64_t axis,
                               const std::vector<std::int64_t>& sizes) {
  std::string first;
  auto* n =
      b.node("Split", {x, b.const_ints({static_cast<std::int64_t>(sizes.size())}, sizes)}, first);
  GraphBuilder::integer(n, "axis", axis);
  std::vector<std::string> parts = {first};
  for (std::size_t i = 1; i < sizes.size(); ++i) {
    parts.push_back(first + "_" + std::to_string(i));
    n->add_output(parts.back());
  }
  return parts;
}

std::string gathered_bias(GraphBuilder& b, const std::string& name, std::int64_t rows,
                          std::int64_t heads, std::int64_t n, const std::vector<std::int64_t>& idx,
                          bool heads_first) {
  const std::string table = b.param(name, heads_first ? std::vector<std::int64_t>{heads, rows}
                                                      : std::vector<std::int64_t>{rows, heads});
  if (b.portable) {
    const auto& t = b.stored(name);
    std::vector<float> full(static_cast<std::size_t>(heads * n * n));
    for (std::int64_t i = 0; i < heads; ++i)
      for (std::int64_t p = 0; p < n * n; ++p)
        full[static_cast<std::size_t>(i * n * n + p)] =
            t.data[static_cast<std::size_t>(heads_first ? i * rows + idx[p] : idx[p] * heads + i)];
    return b.const_floats({heads, n, n}, full);
  }
  std::string bias;
  GraphBuilder::integer(b.node("Gather", {table, b.const_ints({n, n}, idx)}, bias), "axis",
                        heads_first ? 1 : 0);
  return heads_first ? bias : transpose(b, bias, {2, 0, 1});  // (N, N, heads) -> (heads, N, N)
}

std::string softmax(GraphBuilder& b, const std::string& x) {
  std::string y;
  GraphBuilder::integer(b.node("Softmax", {x}, y), "axis", -1);
  return y;
}

}  // namespace hwnas::onnx_export
