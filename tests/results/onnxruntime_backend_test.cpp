// ONNX Runtime as a latency backend (results/onnxruntime_backend.h): every block kind of the
// three families exports alone and is timed inside the runtime; whole networks too; the device
// names the runtime; failures are clear errors. Skipped, with the install command, where ONNX
// Runtime is not installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "core/rng.h"
#include "evaluators/engine/model.h"
#include "profilers/backend_registry.h"
#include "profilers/latency_table.h"
#include "profilers/profile_run.h"
#include "results/onnx_export.h"
#include "results/onnxruntime_backend.h"
#include "spaces/registry.h"
#include "tests/support/golden_tolerances.h"
#include "tests/support/onnx_runtime.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

using test::error_of;

TimingConfig quick() {
  TimingConfig t;
  t.warmup = 1;
  t.min_repeats = 3;
  t.min_time_ms = 1;
  return t;
}

TEST(OnnxRuntimeBackend, TimesOneBlockOfEveryKindOfEveryFamilyAndWholeNetworks) {
  HWNAS_REQUIRE_ORT(modules);
  register_onnxruntime_backend();
  BackendSpec spec;
  spec.name = "onnxruntime";
  spec.threads = 1;
  const auto backend = make_backend(spec);
  const DeviceProfile p = backend->device("ort-test");
  EXPECT_EQ(p.name, "ort-test");
  EXPECT_EQ(p.threads, 1);
  EXPECT_EQ(p.runtime.rfind("onnxruntime 1.", 0), 0u) << p.runtime;
  EXPECT_NE(p.runtime.find("graph optimization all"), std::string::npos) << p.runtime;
  // The table's device maps back to this backend (search --fill, validate).
  EXPECT_EQ(backend_for_device(p, "", "").name, "onnxruntime");
  // Hot unless the table stored another choice: every ORT row was timed hot before the choice.
  EXPECT_EQ(backend_for_device(p, "", "").block_timing, BlockTiming::hot);
  for (const char* name : {"efficientformer-fmnist", "elasticvit-fmnist", "turbovit-fmnist"}) {
    const SearchSpace& space = get_space(name);
    std::vector<BlockSpec> one_per_kind;
    std::set<BlockKind> seen;
    for (const auto& b : space.enumerate_blocks(space_resolutions(space).front()))
      if (seen.insert(b.kind).second) one_per_kind.push_back(b);
    const auto stats = backend->measure_blocks(one_per_kind, quick());
    ASSERT_EQ(stats.size(), one_per_kind.size());
    for (std::size_t i = 0; i < stats.size(); ++i) {
      // A row is the block's time beyond the runtime's run cost (the Identity model's),
      // clamped at 0. A flatten is a no-op in NHWC memory (a Reshape), so its row sits within
      // the noise of that cost and may be 0; every other kind computes something.
      if (one_per_kind[i].kind == BlockKind::flatten) {
        EXPECT_GE(stats[i].median_ms, 0) << one_per_kind[i].key();
      } else {
        EXPECT_GT(stats[i].median_ms, 0) << one_per_kind[i].key();
      }
      EXPECT_GE(stats[i].repeats, 3) << one_per_kind[i].key();
    }
    const auto whole = backend->measure_network(space.decode(space.largest()), quick());
    EXPECT_GT(whole.median_ms, 0) << name;
  }
}

// What the backend times is the block: each kind's graph exported alone (native layouts, batch
// 2) computes in ONNX Runtime what the engine's block computes, to kOnnxRuntimeRelTol.
TEST(OnnxRuntimeBackend, EachBlockExportedAloneComputesWhatTheEngineBlockComputes) {
  HWNAS_REQUIRE_ORT(modules);
  const std::string dir = test::make_temp_dir("hwnas-ort-block");
  OnnxExportOptions eo;
  eo.native_layouts = true;
  eo.batch = 2;
  for (const char* name : {"efficientformer-fmnist", "elasticvit-fmnist", "turbovit-fmnist"}) {
    const SearchSpace& space = get_space(name);
    std::set<BlockKind> seen;
    for (const auto& b : space.enumerate_blocks(space_resolutions(space).front())) {
      if (!seen.insert(b.kind).second) continue;
      Network net;
      net.space = "block";
      net.input = block_input_shape(b);
      net.blocks = {b};
      const WeightStore w = Model::random_weights(net, 3);
      const std::string path = dir + "/" + std::string(block_kind_name(b.kind)) + ".onnx";
      export_onnx(net, w, path, eo);
      Tensor x(2, net.input.h, net.input.w, net.input.c);
      Rng rng(11);
      for (std::size_t i = 0; i < x.size(); ++i)
        x.data()[i] = static_cast<float>(2 * uniform_real(rng) - 1);
      const Tensor want = Model::from_weights(net, w).forward(x);  // NHWC
      const auto dims = onnx_input_dims(net, eo);
      std::vector<float> in(x.data(), x.data() + x.size());  // tokens (B, N, C) are NHWC order
      if (dims.size() == 4) {                                // a map: NCHW
        for (int n = 0; n < x.n(); ++n)
          for (int y = 0; y < x.h(); ++y)
            for (int xx = 0; xx < x.w(); ++xx)
              for (int c = 0; c < x.c(); ++c)
                in[((static_cast<std::size_t>(n) * x.c() + c) * x.h() + y) * x.w() + xx] =
                    x.at(n, y, xx, c);
      }
      std::vector<std::int64_t> out_dims;
      std::vector<float> got = test::run_ort_raw(*modules, path, in, dims, &out_dims);
      ASSERT_EQ(got.size(), want.size()) << b.key();
      if (out_dims.size() == 4) {  // a map: back to NHWC
        std::vector<float> nhwc(got.size());
        for (int n = 0; n < want.n(); ++n)
          for (int y = 0; y < want.h(); ++y)
            for (int xx = 0; xx < want.w(); ++xx)
              for (int c = 0; c < want.c(); ++c)
                nhwc[((static_cast<std::size_t>(n) * want.h() + y) * want.w() + xx) * want.c() +
                     c] =
                    got[((static_cast<std::size_t>(n) * want.c() + c) * want.h() + y) * want.w() +
                        xx];
        got = nhwc;
      }
      double diff = 0, scale = 1;
      for (std::size_t i = 0; i < got.size(); ++i) {
        diff = std::max(diff, std::fabs(double(got[i]) - want.data()[i]));
        scale = std::max(scale, std::fabs(double(want.data()[i])));
      }
      EXPECT_LE(diff / scale, test::kOnnxRuntimeRelTol) << b.key();
    }
  }
}

// The elasticvit and turbovit ONNX Runtime tables of 2026-12-05 had attention and FFN rows
// 6-20 % low against whole networks, as the engine's rows were when timed hot (bench/README.md):
// ORT rows can be timed cold-weights too, and `hwnas profile --backend onnxruntime` chooses
// between the two on whole networks in ONNX Runtime, as the local engine does.
TEST(OnnxRuntimeBackend, ProfilingChoosesTheBlockTimingOnWholeNetworksInTheRuntime) {
  HWNAS_REQUIRE_ORT(modules);
  register_onnxruntime_backend();
  const std::string dir = test::make_temp_dir("hwnas-ort-timing");
  const SearchSpace& space = get_space("efficientformer-fmnist");
  ProfileRunConfig c;
  c.space = space.name();
  c.db = dir + "/ort.db";
  c.backend = "onnxruntime";
  c.threads = 1;
  c.archs = {space.smallest()};
  c.options.timing = quick();
  c.options.windows = 1;
  c.options.overhead_networks = 1;
  const ProfileReport report = run_profile(c);
  LatencyTable table(c.db, LatencyTable::Mode::read_only);
  const auto record = table.calibration("onnxruntime", "block_timing:" + space.name());
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->at("hot_backend"), "onnxruntime (hot)");
  EXPECT_EQ(record->at("cold_backend"), "onnxruntime (cold-weights)");
  const BlockTiming mode = block_timing_from_name(record->at("mode").get<std::string>());
  EXPECT_EQ(report.backend, "onnxruntime (" + block_timing_name(mode) + ")");
  // Every block of the arch has a row, the probe's kept ones included, each above zero but a
  // flatten's (a Reshape, within the noise of the run cost).
  std::map<std::string, double> median;
  for (const auto& r : table.rows("onnxruntime")) median[r.key] = r.stats.median_ms;
  for (const auto& b : space.decode(space.smallest()).blocks) {
    ASSERT_TRUE(median.count(b.key())) << b.key();
    if (b.kind != BlockKind::flatten) {
      EXPECT_GT(median[b.key()], 0) << b.key();
    }
  }
}

// A cold-weights row rotates many sessions of a small block (32 copies of a Fashion-MNIST
// block's weights are needed to pass 64 MiB): the warm-up covers every session's first run,
// which allocates its buffers, and is not counted.
TEST(OnnxRuntimeBackend, AColdWeightsRowCountsOnlyTheTimedRunsOfItsRotation) {
  HWNAS_REQUIRE_ORT(modules);
  OnnxRuntimeOptions o;
  o.block_timing = BlockTiming::cold_weights;
  OnnxRuntimeBackend backend(o);
  EXPECT_EQ(backend.name(), "onnxruntime (cold-weights)");
  const SearchSpace& space = get_space("turbovit-fmnist");
  const Network net = space.decode(space.smallest());
  const BlockSpec first = net.blocks.front();  // reads the image: one input per session
  const BlockSpec last = net.blocks.back();
  ASSERT_TRUE(block_reads_network_input(first.kind));
  ASSERT_EQ(cold_weights_copies(block_cost(first).params * 4, kColdWeightsRotationBytes), 32);
  TimingConfig t;
  t.warmup = 1;
  t.min_repeats = 7;
  t.max_repeats = 7;
  t.min_time_ms = 0;
  const auto stats = backend.measure_blocks({first, last}, t);
  ASSERT_EQ(stats.size(), 2u);
  for (const auto& s : stats) {
    EXPECT_EQ(s.repeats, 7);
    EXPECT_EQ(s.samples_ms.size(), 7u);
  }
}

TEST(OnnxRuntimeBackend, AMissingRuntimeABadLevelAndADeadWorkerAreClearErrors) {
  HWNAS_REQUIRE_ORT(modules);
  OnnxRuntimeOptions o;
  o.node_modules = "/nonexistent";
  EXPECT_NE(error_of([&] { OnnxRuntimeBackend b(o); }).find("ONNX Runtime is not installed in"),
            std::string::npos);
  o.node_modules.clear();
  o.optimization = "max";
  EXPECT_NE(error_of([&] { OnnxRuntimeBackend b(o); }).find("'max'"), std::string::npos);
  // A worker that dies: the error names the worker and quotes its stderr.
  const test::ScopedEnv broken("HWNAS_ORT_WORKER", "/nonexistent/ort_worker.js");
  o.optimization = "all";
  EXPECT_NE(error_of([&] { OnnxRuntimeBackend b(o); }).find("ONNX Runtime worker"),
            std::string::npos);
}

}  // namespace
}  // namespace hwnas
