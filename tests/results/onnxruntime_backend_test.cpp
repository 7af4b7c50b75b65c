// ONNX Runtime as a latency backend (results/onnxruntime_backend.h): every block kind of the
// three families exports alone and is timed inside the runtime; whole networks too; the device
// names the runtime; failures are clear errors. Skipped, with the install command, where ONNX
// Runtime is not installed.
#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "profilers/backend_registry.h"
#include "results/onnxruntime_backend.h"
#include "spaces/registry.h"
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
  for (const char* name : {"efficientformer-fmnist", "elasticvit-fmnist", "turbovit-fmnist"}) {
    const SearchSpace& space = get_space(name);
    std::vector<BlockSpec> one_per_kind;
    std::set<BlockKind> seen;
    for (const auto& b : space.enumerate_blocks(space_resolutions(space).front()))
      if (seen.insert(b.kind).second) one_per_kind.push_back(b);
    const auto stats = backend->measure_blocks(one_per_kind, quick());
    ASSERT_EQ(stats.size(), one_per_kind.size());
    for (std::size_t i = 0; i < stats.size(); ++i) {
      EXPECT_GT(stats[i].median_ms, 0) << one_per_kind[i].key();
      EXPECT_GE(stats[i].repeats, 3) << one_per_kind[i].key();
    }
    const auto whole = backend->measure_network(space.decode(space.largest()), quick());
    EXPECT_GT(whole.median_ms, 0) << name;
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
