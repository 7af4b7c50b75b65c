// The ONNX export against ONNX Runtime (Microsoft's onnxruntime through its Node binding,
// tools/onnx/ort_run.js), an independent runtime that runs every operator the exporter uses:
// the exported graphs of all three spaces compute the engine's logits, and the reference
// code's logits for the golden models (EfficientFormer L1 from timm, ElasticViT T1 from the
// official code, Hiera from timm). Skipped, with the install command, where ONNX Runtime is
// not installed (scripts/install-deps.sh installs it in tools/onnx/node_modules).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

#include "core/rng.h"
#include "evaluators/engine/model.h"
#include "evaluators/io/safetensors.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "results/onnx_export.h"
#include "spaces/hiera_network.h"
#include "spaces/registry.h"
#include "tests/evaluators/golden_model.h"
#include "tests/support/golden_tolerances.h"
#include "tests/support/onnx_runtime.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

namespace fs = std::filesystem;

Tensor random_input(const Network& net, int batch, std::uint64_t seed) {
  Tensor t(batch, net.input.h, net.input.w, net.input.c);
  Rng rng(seed);
  for (std::size_t i = 0; i < t.size(); ++i)
    t.data()[i] = static_cast<float>(2 * uniform_real(rng) - 1);
  return t;
}

// max |a - b| over the logits, relative to max(1, max |b|).
double relative_diff(const std::vector<float>& a, const float* b, std::size_t n) {
  EXPECT_EQ(a.size(), n);
  double diff = 0, scale = 1;
  for (std::size_t i = 0; i < std::min(a.size(), n); ++i) {
    diff = std::max(diff, std::fabs(double(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(double(b[i])));
  }
  return diff / scale;
}

// Exports `net` with `w`, runs it in ONNX Runtime and in the engine on `input`; returns the
// runtime's logits after checking them against the engine's (kOnnxRuntimeRelTol).
std::vector<float> expect_runtime_matches_engine(const std::string& modules, const Network& net,
                                                 const WeightStore& w, const Tensor& input,
                                                 const OnnxExportOptions& options) {
  const std::string path = test::make_temp_dir("hwnas-ort") + "/m.onnx";
  export_onnx(net, w, path, options);
  const std::vector<float> ort = test::run_ort(modules, path, input);
  Model model = Model::from_weights(net, w);
  const Tensor engine = model.forward(input);
  const double d = relative_diff(ort, engine.data(), engine.size());
  std::cout << "[ onnx     ] " << net.space << " " << net.blocks.size() << " blocks, batch "
            << input.n() << (options.portable ? ", portable" : "")
            << ": ONNX Runtime vs engine max relative logit difference " << d << "\n";
  EXPECT_LE(d, test::kOnnxRuntimeRelTol) << net.space;
  return ort;
}

void expect_golden(const std::string& modules, const std::string& stem, const Network& net) {
  const test::GoldenModel& g = test::golden_model(stem);
  for (const bool portable : {false, true}) {
    const auto ort = expect_runtime_matches_engine(modules, net, g.weights, g.input,
                                                   {.batch = g.input.n(), .portable = portable});
    const double d = test::max_abs_diff(ort.data(), g.logits.data.data(), g.logits.data.size());
    std::cout << "[ onnx     ] " << stem << ": ONNX Runtime vs reference logits max abs diff " << d
              << "\n";
    EXPECT_LE(d, test::kOnnxGoldenLogitAbsTol) << stem;
  }
}

TEST(OnnxRuntime, EfficientFormerL1MatchesTimm) {
  HWNAS_REQUIRE_ORT(modules);
  const SearchSpace& s = get_space("efficientformer");
  expect_golden(*modules, "efficientformer_l1", s.decode(s.resolve("l1")));
}

TEST(OnnxRuntime, ElasticVitT1MatchesTheOfficialCode) {
  HWNAS_REQUIRE_ORT(modules);
  const SearchSpace& s = get_space("elasticvit");
  expect_golden(*modules, "elasticvit_t1", s.decode(s.resolve("t1")));
}

TEST(OnnxRuntime, HieraSmallMatchesTimm) {
  HWNAS_REQUIRE_ORT(modules);
  std::ifstream f(test::golden_dir() + "/hiera_small.json");
  const auto arch = nlohmann::json::parse(f).at("arch");
  expect_golden(*modules, "hiera_small", hiera_network(hiera_config_from_timm(arch), "turbovit"));
}

// Sampled subnets with random weights at batch 2: every resolution's grids (ElasticViT's odd
// 7x7 -> 4x4 entry at 224, T2's stride-1 entry; Hiera's mask units, Q-pooling, global stages).
TEST(OnnxRuntime, SampledSubnetsOfEverySpaceMatchTheEngine) {
  HWNAS_REQUIRE_ORT(modules);
  for (const std::string name : {"efficientformer", "elasticvit", "turbovit"}) {
    const SearchSpace& s = get_space(name);
    Rng rng(11);
    std::vector<Arch> archs = {s.sample(rng), s.sample(rng)};
    if (name == "elasticvit") {  // and t1 at 224, whose T4 entry pools an odd 7x7 grid
      nlohmann::json j = s.to_json(s.resolve("t1"));
      j["resolution"] = 224;
      archs.push_back(s.from_json(j));
    }
    for (std::size_t trial = 0; trial < archs.size(); ++trial) {
      const Network net = s.decode(archs[trial]);
      expect_runtime_matches_engine(*modules, net, Model::random_weights(net, 5 + trial),
                                    random_input(net, 2, 7 + trial), {.batch = 2});
    }
  }
}

// The bundled Fashion-MNIST supernets: subnet m sliced from each checkpoint (one input channel).
TEST(OnnxRuntime, FashionMnistSubnetsSlicedFromTheSupernetsMatchTheEngine) {
  HWNAS_REQUIRE_ORT(modules);
  for (const std::string name :
       {"efficientformer-fmnist", "elasticvit-fmnist", "turbovit-fmnist"}) {
    const SearchSpace& s = get_space(name);
    const WeightStore supernet =
        load_safetensors(test::test_data_dir() + "/../../data/supernets/" + name + ".safetensors");
    const Arch m = s.resolve("m");
    const Network net = s.decode(m);
    expect_runtime_matches_engine(*modules, net, slice_supernet(s, m, supernet),
                                  random_input(net, 2, 3), {.batch = 2});
  }
}

}  // namespace
}  // namespace hwnas
