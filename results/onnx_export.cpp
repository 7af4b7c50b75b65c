#include "results/onnx_export.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <cstring>
#include <fstream>
#include <optional>

#include "core/atomic_file.h"
#include "core/error.h"
#include "evaluators/engine/model.h"
#include "evaluators/families/model_family.h"
#include "results/onnx/onnx_lowering.h"
#include "results/onnx/qdq.h"

namespace hwnas {
namespace onnx_export {

Layout input_layout(BlockKind kind) {
  switch (kind) {
    case BlockKind::meta3d:
    case BlockKind::head:
    case BlockKind::evit_attention:
    case BlockKind::evit_ffn:
    case BlockKind::evit_head:
    case BlockKind::hiera_block:
    case BlockKind::hiera_head:
      return Layout::tokens;
    case BlockKind::stem:
    case BlockKind::meta4d:
    case BlockKind::downsample:
    case BlockKind::flatten:
    case BlockKind::evit_first_conv:
    case BlockKind::evit_mbconv:
    case BlockKind::hiera_patch_embed:
      return Layout::map;
  }
  throw Error("onnx export: block kind out of range");
}

Layout output_layout(BlockKind kind) {
  switch (kind) {
    case BlockKind::flatten:
    case BlockKind::hiera_patch_embed:
      return Layout::tokens;
    case BlockKind::stem:
    case BlockKind::meta4d:
    case BlockKind::downsample:
    case BlockKind::meta3d:
    case BlockKind::head:
    case BlockKind::evit_first_conv:
    case BlockKind::evit_mbconv:
    case BlockKind::evit_attention:
    case BlockKind::evit_ffn:
    case BlockKind::evit_head:
    case BlockKind::hiera_block:
    case BlockKind::hiera_head:
      return input_layout(kind);
  }
  throw Error("onnx export: block kind out of range");
}

}  // namespace onnx_export

namespace {

void set_tensor_type(onnx::ValueInfoProto* v, const std::string& name,
                     const std::vector<std::int64_t>& dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = t->mutable_shape();
  for (auto d : dims) shape->add_dim()->set_dim_value(d);
}

}  // namespace

std::vector<std::int64_t> onnx_input_dims(const Network& net, const OnnxExportOptions& options) {
  if (net.blocks.empty()) throw Error("ONNX export: the network has no blocks");
  const std::int64_t b = options.batch;
  if (options.native_layouts &&
      onnx_export::onnx_lowering(family_of(net).name).input_layout(net.blocks.front()) ==
          onnx_export::Layout::tokens) {
    const FeatureShape in = block_input_shape(net.blocks.front());
    return {b, std::int64_t{in.h} * in.w, in.c};
  }
  return {b, net.input.c, net.input.h, net.input.w};
}

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
  set_tensor_type(g->add_input(), "input", onnx_input_dims(net, options));
  using namespace onnx_export;
  GraphBuilder b(*g, weights, batch, options.portable);
  std::optional<QdqLayers> qdq;
  if (options.int8) b.int8 = &qdq.emplace(*options.int8);
  const auto prefixes = param_prefixes(net);
  const OnnxLowering& lowering = onnx_lowering(family_of(net).name);
  std::string x = "input";
  Layout layout = options.native_layouts ? lowering.input_layout(net.blocks.front()) : Layout::map;
  for (std::size_t i = 0; i < net.blocks.size(); ++i) {
    const BlockSpec& s = net.blocks[i];
    const Layout want = lowering.input_layout(s);
    if (want != layout) {
      const FeatureShape in = block_input_shape(s);
      x = want == Layout::tokens ? map_to_tokens(b, x, in.c, in.h, in.w)
                                 : tokens_to_map(b, x, in.c, in.h, in.w);
    }
    const std::string y = lowering.lower(b, s, prefixes[i], x);
    if (y.empty())
      throw Error("ONNX export: block kind '" + std::string(block_kind_name(s.kind)) +
                  "' has no ONNX lowering yet");
    x = y;
    layout = lowering.output_layout(s);
    // Every block's output gets a stable name ("block3"), so that a runtime can be asked for
    // it when a mismatch must be located.
    if (i + 1 < net.blocks.size()) {
      x = "block" + std::to_string(i);
      g->mutable_node(g->node_size() - 1)->set_output(0, x);
      g->mutable_node(g->node_size() - 1)->set_name(x);
    }
  }
  if (qdq) qdq->finish();
  // The head's last node produces the graph output directly (an Identity trips OpenCV 4.6).
  if (options.native_layouts) {
    // The output's shape is what ONNX's own shape inference finds for the last node (a head
    // gives (B, classes), a map (B, C, H, W), tokens (B, N, C)).
    g->mutable_node(g->node_size() - 1)->set_output(0, "output");
    onnx::shape_inference::InferShapes(model);
    for (int i = 0; i < g->value_info_size(); ++i)
      if (g->value_info(i).name() == "output") {
        *g->add_output() = g->value_info(i);
        g->mutable_value_info()->DeleteSubrange(i, 1);
        return model;
      }
    throw Error("ONNX export: shape inference found no shape for the output of block '" +
                net.blocks.back().key() + "'");
  }
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
  write_file_atomic(path, bytes);
  OnnxExportInfo info{path, model.graph().node_size(), model.graph().initializer_size(), 0};
  for (const auto& t : model.graph().initializer())
    if (t.data_type() == onnx::TensorProto::FLOAT && weights.contains(t.name()))
      info.parameters += static_cast<std::int64_t>(t.has_raw_data() ? t.raw_data().size() / 4
                                                                    : t.float_data_size());
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
