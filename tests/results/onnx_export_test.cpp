// ONNX export: checker and shape inference pass, weights read back equal the engine's, and an
// independent runtime (OpenCV's DNN module) computes the engine's logits where it can import
// the graph.
#include "results/onnx_export.h"

#include <gtest/gtest.h>

#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <opencv2/dnn.hpp>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/rng.h"
#include "evaluators/engine/model.h"
#include "evaluators/io/npy.h"
#include "spaces/registry.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

const SearchSpace& space() { return get_space("efficientformer"); }

Network small_net(int num_vit) {
  return space().decode(space().from_json(nlohmann::json{{"space", "efficientformer"},
                                                         {"embed_dims", {32, 64, 128, 256}},
                                                         {"depths", {1, 1, 2, 2}},
                                                         {"num_vit", num_vit},
                                                         {"resolution", 64}}));
}

onnx::ModelProto read_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromIstream(&in));
  return m;
}

TEST(OnnxExport, PassesCheckerAndInfersLogitShape) {
  const std::string dir = test::make_temp_dir("hwnas-onnx");
  for (int num_vit : {0, 1, 2}) {
    const Network net = small_net(num_vit);
    const std::string path = dir + "/m" + std::to_string(num_vit) + ".onnx";
    const auto info = export_onnx(net, Model::random_weights(net, 3), path, {.batch = 2});
    EXPECT_GT(info.nodes, 10);
    onnx::ModelProto m = read_model(path);
    onnx::shape_inference::InferShapes(m);
    const auto& dims = m.graph().output(0).type().tensor_type().shape().dim();
    ASSERT_EQ(dims.size(), 2);
    EXPECT_EQ(dims[0].dim_value(), 2);
    EXPECT_EQ(dims[1].dim_value(), 1000);
    EXPECT_EQ(
        info.parameters, net.params() + [&] {
          // BatchNorm running statistics are stored too (2 per BN channel); params() excludes them.
          std::int64_t bn = 0;
          for (const auto& [name, t] : Model::random_weights(net, 3).tensors)
            if (name.find("running_") != std::string::npos)
              bn += static_cast<std::int64_t>(t.data.size());
          return bn;
        }());
  }
}

TEST(OnnxExport, GoldenL1WeightsReadBackEqualTheEngines) {
  const WeightStore golden =
      load_safetensors(test::golden_dir() + "/efficientformer_l1.safetensors");
  const Network net = space().decode(space().resolve("l1"));
  const std::string path = test::make_temp_dir("hwnas-onnx") + "/l1.onnx";
  export_onnx(net, golden, path);
  const WeightStore back = read_onnx_initializers(path);
  int compared = 0;
  for (const auto& [name, t] : golden.tensors) {
    const auto it = back.tensors.find(name);
    ASSERT_NE(it, back.tensors.end()) << name;
    EXPECT_EQ(it->second.shape, t.shape) << name;
    EXPECT_EQ(it->second.data, t.data) << name;
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<int>(golden.tensors.size()));
}

Tensor random_input(const Network& net, std::uint64_t seed) {
  Tensor t(1, net.input.h, net.input.w, net.input.c);
  Rng rng(seed);
  for (std::size_t i = 0; i < t.size(); ++i)
    t.data()[i] = static_cast<float>(2 * uniform_real(rng) - 1);
  return t;
}

// OpenCV's DNN module (Debian's 4.6) as the independent runtime. It imports the portable
// graph of attention-free networks but fails on (a) LayerNormalization, (b) Gather with tensor
// indices, (c) the MB3D attention's 4-D batched MatMul/Reshape, and (d) element-wise ops on the
// 2-D logits. So this compares every block up to the classifier head — stem, Meta4D (pool
// mixer, GELU MLP, layer scales), downsamples, flatten — with the engine's per-block outputs.
TEST(OnnxExport, OpenCvRuntimeMatchesEngineBlockByBlock) {
  const Network net = small_net(0);
  const WeightStore w = Model::random_weights(net, 9);
  const std::string path = test::make_temp_dir("hwnas-onnx") + "/s.onnx";
  export_onnx(net, w, path, {.batch = 1, .portable = true});
  const Tensor input = random_input(net, 4);
  std::vector<Tensor> engine_out;
  Model model = Model::from_weights(net, w);
  model.forward_trace(input, [&](std::size_t, const Tensor& t) { engine_out.push_back(t); });
  cv::dnn::Net cvnet = cv::dnn::readNetFromONNX(path);
  const int H = net.input.h, W = net.input.w;
  cv::Mat x(std::vector<int>{1, 3, H, W}, CV_32F);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < H; ++y)
      for (int xx = 0; xx < W; ++xx) x.ptr<float>()[(c * H + y) * W + xx] = input.at(0, y, xx, c);
  int compared = 0;
  for (std::size_t i = 0; i + 1 < net.blocks.size(); ++i) {
    if (net.blocks[i].kind == BlockKind::flatten) continue;  // a layout change only
    cvnet.setInput(x);
    cv::Mat out;
    try {
      out = cvnet.forward("onnx_node!block" + std::to_string(i));  // OpenCV 4.6's layer naming
    } catch (const cv::Exception&) {
      continue;  // OpenCV fused the block's last node (e.g. ReLU into Conv): not addressable
    }
    const Tensor& e = engine_out[i];
    ASSERT_EQ(out.total(), e.size()) << net.blocks[i].key();
    double max_diff = 0, max_ref = 0;
    for (int c = 0; c < e.c(); ++c)  // OpenCV's map is NCHW
      for (int y = 0; y < e.h(); ++y)
        for (int xx = 0; xx < e.w(); ++xx) {
          const double ref = e.at(0, y, xx, c);
          max_diff =
              std::max(max_diff, std::fabs(out.ptr<float>()[(c * e.h() + y) * e.w() + xx] - ref));
          max_ref = std::max(max_ref, std::fabs(ref));
        }
    EXPECT_LE(max_diff, 1e-4 * std::max(1.0, max_ref)) << net.blocks[i].key();
    ++compared;
  }
  EXPECT_GE(compared, 6);  // the Meta4D blocks and downsamples
}

TEST(OnnxExport, BadInputGivesErrorsAndLeavesNothing) {
  const Network net = small_net(1);
  WeightStore w = Model::random_weights(net, 1);
  w.tensors.erase("stem.conv1.weight");
  const std::string dir = test::make_temp_dir("hwnas-onnx");
  EXPECT_THROW(export_onnx(net, w, dir + "/x.onnx"), Error);
  EXPECT_FALSE(std::filesystem::exists(dir + "/x.onnx"));
  EXPECT_THROW(export_onnx(net, Model::random_weights(net, 1), "/nonexistent-dir/x.onnx"), Error);
  EXPECT_THROW(read_onnx_initializers(dir + "/missing.onnx"), Error);
}

}  // namespace
}  // namespace hwnas
