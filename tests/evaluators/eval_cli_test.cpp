// `hwnas eval`: JSON output against the library on the same data, and clear errors.
#include <gtest/gtest.h>

#include <stb_image_write.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/rng.h"
#include "evaluators/accuracy/accuracy.h"
#include "evaluators/accuracy/bn_recalibration.h"
#include "evaluators/datasets/eval_data.h"
#include "evaluators/io/npy.h"
#include "evaluators/quant/int8_gemm.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "spaces/registry.h"
#include "tests/evaluators/random_supernet.h"
#include "tests/support/skip_without_int8.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

test::CommandResult hwnas_eval(const std::string& args) {
  return test::run_command(std::string(HWNAS_BIN) + " eval " + args);
}

class EvalCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(test::make_temp_dir("hwnas-eval"));
    save_safetensors(*dir_ + "/super.safetensors", test::random_fmnist_supernet(21));
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string weights() { return *dir_ + "/super.safetensors"; }
  static std::string* dir_;
};
std::string* EvalCli::dir_ = nullptr;

TEST_F(EvalCli, JsonMatchesLibraryWithAndWithoutRecalibration) {
  const std::string common = "--space efficientformer-fmnist --arch m --weights " + weights() +
                             " --samples 48 --recal-images 128 --split val --json";
  const auto r = hwnas_eval(common + " --predictions " + *dir_ + "/pred.npy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["samples"], 48);
  EXPECT_EQ(j["bn_recalibrated"], true);
  EXPECT_GT(j["images_per_second"].get<double>(), 0);
  // The same pipeline through the library: slice, recalibrate on 2 batches of 64, score.
  const SearchSpace& space = get_space("efficientformer-fmnist");
  const Arch m = space.resolve("m");
  const Network net = space.decode(m);
  const WeightStore sub = slice_supernet(space, m, load_safetensors(weights()));
  EvalData data = open_eval_data("fashion-mnist", "val", 0, 64, 128);
  data.eval.resize(48);
  const WeightStore stats = recalibrate_batchnorm(net, sub, 2, [&](std::size_t b) {
    return load_batch(*data.recal_set, data.recal, b * 64, b * 64 + 64);
  });
  const AccuracyResult lib =
      evaluate_accuracy(net, with_bn_stats(sub, stats), *data.eval_set, data.eval);
  EXPECT_DOUBLE_EQ(j["top1"].get<double>(), lib.top1);
  EXPECT_DOUBLE_EQ(j["top5"].get<double>(), lib.top5);
  const NpyArray pred = read_npy(*dir_ + "/pred.npy");
  ASSERT_EQ(pred.data.size(), 48u);
  for (std::size_t i = 0; i < 48; ++i)
    EXPECT_EQ(static_cast<int>(pred.data[i]), lib.predictions[i]) << i;

  const auto raw = hwnas_eval(common + " --no-recalibrate");
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  const auto k = nlohmann::json::parse(raw.out);
  EXPECT_EQ(k["bn_recalibrated"], false);
  const AccuracyResult plain = evaluate_accuracy(net, sub, *data.eval_set, data.eval);
  EXPECT_DOUBLE_EQ(k["top1"].get<double>(), plain.top1);
}

// Hiera has no BatchNorm: eval scores the sliced subnet as is and says why it did not recalibrate.
TEST_F(EvalCli, NetworkWithoutBatchNormIsNotRecalibratedAndSaysWhy) {
  const std::string super = *dir_ + "/turbovit.safetensors";
  save_safetensors(super, test::random_union_supernet("turbovit-fmnist", 4));
  const std::string args =
      "--space turbovit-fmnist --arch m --weights " + super + " --samples 24 --split val";
  const auto r = hwnas_eval(args + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["bn_recalibrated"], false);
  EXPECT_NE(j["bn_note"].get<std::string>().find("no BatchNorm"), std::string::npos) << r.out;
  const SearchSpace& space = get_space("turbovit-fmnist");
  const Arch m = space.resolve("m");
  EvalData data = open_eval_data("fashion-mnist", "val", 0, 64, 0);
  data.eval.resize(24);
  const AccuracyResult lib =
      evaluate_accuracy(space.decode(m), slice_supernet(space, m, load_safetensors(super)),
                        *data.eval_set, data.eval);
  EXPECT_DOUBLE_EQ(j["top1"].get<double>(), lib.top1);
  const auto text = hwnas_eval(args);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("BN not recalibrated (the network has no BatchNorm"), std::string::npos)
      << text.out;
}

TEST_F(EvalCli, CacheDirServesTheSecondRun) {
  const std::string args = "--space efficientformer-fmnist --arch s --weights " + weights() +
                           " --samples 16 --recal-images 64 --json --cache-dir " + *dir_ + "/cache";
  const auto a = hwnas_eval(args), b = hwnas_eval(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  EXPECT_EQ(ja["recal_cached"], false);
  EXPECT_EQ(jb["recal_cached"], true);
  EXPECT_EQ(ja["top1"], jb["top1"]);
}

// elasticvit-fmnist: the 128x128 (4x) Fashion-MNIST input, ElasticViT slicing and BN
// recalibration, the same numbers as the library.
TEST_F(EvalCli, ElasticVitFmnistMatchesLibrary) {
  const std::string ev = *dir_ + "/evit.safetensors";
  save_safetensors(ev, test::random_union_supernet("elasticvit-fmnist", 22));
  const auto r = hwnas_eval("--space elasticvit-fmnist --arch s --weights " + ev +
                            " --samples 16 --recal-images 64 --split val --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["dataset"], "fashion-mnist:train@128");
  const SearchSpace& space = get_space("elasticvit-fmnist");
  const Arch s = space.resolve("s");
  const Network net = space.decode(s);
  const WeightStore sub = slice_supernet(space, s, load_safetensors(ev));
  EvalData data = open_eval_data("fashion-mnist", "val", 0, 128, 64);
  data.eval.resize(16);
  const WeightStore stats = recalibrate_batchnorm(
      net, sub, 1, [&](std::size_t) { return load_batch(*data.recal_set, data.recal, 0, 64); });
  const AccuracyResult lib =
      evaluate_accuracy(net, with_bn_stats(sub, stats), *data.eval_set, data.eval);
  EXPECT_DOUBLE_EQ(j["top1"].get<double>(), lib.top1);
  // The ElasticViT supernet does not fit the 64x64 space, and vice versa.
  const auto bad =
      hwnas_eval("--space efficientformer-fmnist --arch s --samples 8 --weights " + ev);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("trained for space 'elasticvit-fmnist'"), std::string::npos) << bad.err;
}

// A user's own validation set: an ImageFolder of ImageNet's 1000 classes (one small RGB PNG of
// seeded noise each), scored by EfficientFormer L1 with timm's weights (a plain checkpoint, not
// a supernet): the CLI's top-1/top-5 and predictions equal the library's on the same held-out
// split after the same BN recalibration (resize, centre crop, ImageNet normalisation inside).
TEST_F(EvalCli, ImageFolderOfImageNetClassesMatchesLibrary) {
  const std::string folder = *dir_ + "/imagenet";
  Rng rng(5);
  for (int c = 0; c < 1000; ++c) {
    char name[16];
    std::snprintf(name, sizeof name, "n%04d", c);
    std::filesystem::create_directories(folder + "/" + name);
    std::vector<std::uint8_t> px(16 * 12 * 3);
    for (auto& v : px) v = static_cast<std::uint8_t>(uniform_int(rng, 0, 255));
    stbi_write_png((folder + "/" + name + "/0.png").c_str(), 16, 12, 3, px.data(), 16 * 3);
  }
  const std::string weights = test::golden_dir() + "/efficientformer_l1.safetensors";
  const auto r =
      hwnas_eval("--space efficientformer --arch l1 --weights " + weights + " --dataset " + folder +
                 " --samples 24 --recal-images 64 --json --predictions " + *dir_ + "/in_pred.npy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["samples"], 24);
  EXPECT_EQ(j["bn_recalibrated"], true);
  const SearchSpace& space = get_space("efficientformer");
  const Network net = space.decode(space.resolve("l1"));
  const WeightStore w = load_safetensors(weights);
  EvalData data = open_eval_data(folder, "val", 0, 224, 64);
  data.eval.resize(24);
  const WeightStore stats = recalibrate_batchnorm(
      net, w, 1, [&](std::size_t) { return load_batch(*data.recal_set, data.recal, 0, 64); });
  const AccuracyResult lib =
      evaluate_accuracy(net, with_bn_stats(w, stats), *data.eval_set, data.eval);
  EXPECT_DOUBLE_EQ(j["top1"].get<double>(), lib.top1);
  EXPECT_DOUBLE_EQ(j["top5"].get<double>(), lib.top5);
  const NpyArray pred = read_npy(*dir_ + "/in_pred.npy");
  ASSERT_EQ(pred.data.size(), 24u);
  std::set<int> distinct;
  for (std::size_t i = 0; i < 24; ++i) {
    EXPECT_EQ(static_cast<int>(pred.data[i]), lib.predictions[i]) << i;
    distinct.insert(lib.predictions[i]);
  }
  EXPECT_GT(distinct.size(), 1u);  // the images reach the network: not one constant answer
}

TEST_F(EvalCli, ClearErrors) {
  std::ofstream(*dir_ + "/bad.safetensors") << "not a safetensors file";
  const std::string arch = "--space efficientformer-fmnist --arch s --samples 8 ";
  auto r = hwnas_eval(arch + "--weights " + *dir_ + "/bad.safetensors");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.safetensors"), std::string::npos) << r.err;
  r = hwnas_eval("--space nosuchspace --arch s --weights " + weights());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("error:"), std::string::npos) << r.err;
  // A 3-class ImageFolder for the 10-class space.
  const std::string folder = *dir_ + "/folder";
  for (const char* c : {"a", "b", "c"}) {
    std::filesystem::create_directories(folder + "/" + c);
    std::vector<std::uint8_t> px(8 * 8 * 3, 128);
    stbi_write_png((folder + "/" + c + "/0.png").c_str(), 8, 8, 3, px.data(), 24);
  }
  r = hwnas_eval(arch + "--weights " + weights() + " --dataset " + folder);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("3 classes but the network predicts 10"), std::string::npos) << r.err;
  r = hwnas_eval(arch + "--weights " + weights() + " --split train");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown split"), std::string::npos) << r.err;
  // A supernet trained for another space.
  r = hwnas_eval("--space efficientformer --arch l1 --samples 8 --weights " + weights());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("trained for space 'efficientformer-fmnist'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hwnas

namespace hwnas {
namespace {

// int8: the bundled supernet's s subnet scored in int8 on 500 test images stays within a point
// of fp32 on the same images (the full table, 10,000 images: bench/int8_accuracy.py), reports
// its quantized layers, and refuses too small a calibration set or more calibration images
// than recalibration images, by name.
TEST(EvalCliInt8, ScoresNearFp32AndRefusesBadCalibration) {
  HWNAS_SKIP_WITHOUT_INT8();
  const std::string common = "--space efficientformer-fmnist --arch s --weights " +
                             test::test_data_dir() +
                             "/../../data/supernets/efficientformer-fmnist.safetensors "
                             "--samples 500 --json";
  const auto fp32 = hwnas_eval(common);
  const auto int8 = hwnas_eval(common + " --precision int8 --calibration 64");
  ASSERT_EQ(fp32.exit_code, 0) << fp32.err;
  ASSERT_EQ(int8.exit_code, 0) << int8.err;
  const auto a = nlohmann::json::parse(fp32.out), b = nlohmann::json::parse(int8.out);
  EXPECT_EQ(b["precision"], "int8");
  EXPECT_EQ(b["int8"]["layers"], 14);  // every GEMM layer the s subnet runs
  EXPECT_NEAR(b["top1"].get<double>(), a["top1"].get<double>(), 0.01);
  const auto few = hwnas_eval(common + " --precision int8 --calibration 4");
  EXPECT_NE(few.exit_code, 0);
  EXPECT_NE(few.err.find("at least 16 images"), std::string::npos) << few.err;
  const auto many = hwnas_eval(common + " --precision int8 --calibration 600 --recal-images 512");
  EXPECT_NE(many.exit_code, 0);
  EXPECT_NE(many.err.find("raise --recal-images"), std::string::npos) << many.err;
}

// ElasticViT's depthwise convolutions run in int8 too: the s subnet's 11 (the PyTorch reference
// counts 11 depthwise Conv2d modules in it, tests/data/int8/elasticvit-fmnist.s.plan.json), none
// with --depthwise fp32, and with --depthwise faster the 11 split between int8 and kept fp32;
// every way the top-1 stays within two points (6 images) of fp32 on 300 images (seen: int8 +1.0
// point, 2026-12-05; the 10,000-image table is in evaluators/README.md).
TEST(EvalCliInt8, ElasticVitQuantizesItsDepthwiseLayers) {
  HWNAS_SKIP_WITHOUT_INT8();
  const std::string common = "--space elasticvit-fmnist --arch s --weights " +
                             test::test_data_dir() +
                             "/../../data/supernets/elasticvit-fmnist.safetensors "
                             "--samples 300 --calibration 32 --json";
  const auto run = [](const std::string& args) {
    const auto r = hwnas_eval(args);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
  };
  const auto fp32 = run(common);
  const auto int8 = run(common + " --precision int8");
  const auto gemm_only = run(common + " --precision int8 --depthwise fp32");
  ASSERT_TRUE(fp32.contains("top1") && int8.contains("top1") && gemm_only.contains("top1"));
  EXPECT_EQ(int8["int8"]["depthwise_layers"], 11);
  EXPECT_EQ(gemm_only["int8"]["depthwise_layers"], 0);
  EXPECT_EQ(int8["int8"]["layers"], gemm_only["int8"]["layers"]);
  EXPECT_NEAR(int8["top1"].get<double>(), fp32["top1"].get<double>(), 0.02);
  EXPECT_NEAR(gemm_only["top1"].get<double>(), fp32["top1"].get<double>(), 0.02);
  const auto faster = run(common + " --precision int8 --depthwise faster");
  ASSERT_TRUE(faster.contains("int8"));
  EXPECT_EQ(faster["int8"]["depthwise_layers"].get<int>() +
                faster["int8"]["depthwise_layers_kept_fp32"].get<int>(),
            11);
  EXPECT_NEAR(faster["top1"].get<double>(), fp32["top1"].get<double>(), 0.02);
  const auto bad = hwnas_eval(common + " --precision int8 --depthwise fastest");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--depthwise"), std::string::npos) << bad.err;
}

// Mixed precision (spaces/precision_genes.h): with every stage's gene at int8 the subnet is
// scored exactly as the int8 evaluation scores it, with every gene at fp32 exactly as fp32;
// genes int8 for the last two stages quantize only those stages' GEMM layers (7 of s's 14: two
// downsample convolutions, two Meta4D blocks' fc1 and fc2, the head), and the top-1 lies
// within a point of fp32. Precision and space must agree.
TEST(EvalCliMixed, GenesChooseTheQuantizedStages) {
  HWNAS_SKIP_WITHOUT_INT8();
  const std::string weights = " --weights " + test::test_data_dir() +
                              "/../../data/supernets/efficientformer-fmnist.safetensors "
                              "--samples 300 --calibration 32 --json";
  const std::string s = R"({"depths":[1,1,1,1],"embed_dims":[16,32,64,128],"num_vit":0,)"
                        R"("resolution":64,"space":"efficientformer-fmnist+precision",)";
  const auto arch = [&](const std::string& p) {
    return " --arch '" + s + R"("precision":[)" + p + "]}'";
  };
  const auto run = [](const std::string& args) {
    const auto r = hwnas_eval(args);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
  };
  const auto fp32 = run("--space efficientformer-fmnist --arch s" + weights);
  const auto int8 = run("--space efficientformer-fmnist --arch s --precision int8" + weights);
  const std::string mixed = "--space efficientformer-fmnist+precision --precision mixed";
  const auto all8 = run(mixed + arch(R"("int8","int8","int8","int8")") + weights);
  const auto none = run(mixed + arch(R"("fp32","fp32","fp32","fp32")") + weights);
  const auto late = run(mixed + arch(R"("fp32","fp32","int8","int8")") + weights);
  ASSERT_TRUE(fp32.contains("top1") && int8.contains("top1") && late.contains("top1"));
  EXPECT_EQ(all8["top1"], int8["top1"]);
  EXPECT_EQ(all8["int8"]["layers"], 14);
  EXPECT_EQ(none["top1"], fp32["top1"]);
  EXPECT_EQ(none["int8"]["layers"], 0);
  EXPECT_EQ(late["int8"]["layers"], 7);
  EXPECT_NEAR(late["top1"].get<double>(), fp32["top1"].get<double>(), 0.01);
  const auto wrong = hwnas_eval("--space efficientformer-fmnist+precision --precision int8" +
                                arch(R"("int8","int8","int8","int8")") + weights);
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("has precision genes: evaluate it with precision mixed"),
            std::string::npos)
      << wrong.err;
  const auto plain =
      hwnas_eval("--space efficientformer-fmnist --arch s --precision mixed" + weights);
  EXPECT_NE(plain.exit_code, 0);
  EXPECT_NE(plain.err.find("'efficientformer-fmnist+precision'"), std::string::npos) << plain.err;
}

}  // namespace
}  // namespace hwnas
