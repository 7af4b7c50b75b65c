#include "tests/evaluators/golden_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>

#include "evaluators/io/npz.h"
#include "evaluators/runtime/thread_scope.h"
#include "tests/support/golden_tolerances.h"
#include "tests/support/test_support.h"

namespace hwnas::test {

Tensor nchw_to_nhwc(const NpyArray& a) {
  const int n = static_cast<int>(a.shape[0]), c = static_cast<int>(a.shape[1]),
            h = static_cast<int>(a.shape[2]), w = static_cast<int>(a.shape[3]);
  Tensor t(n, h, w, c);
  for (int b = 0; b < n; ++b)
    for (int ch = 0; ch < c; ++ch)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          t.at(b, y, x, ch) = a.data[((static_cast<std::size_t>(b) * c + ch) * h + y) * w + x];
  return t;
}

double max_abs_diff(const float* a, const float* b, std::size_t n) {
  double d = 0;
  for (std::size_t i = 0; i < n; ++i) d = std::max(d, std::abs(static_cast<double>(a[i]) - b[i]));
  return d;
}

const GoldenModel& golden_model(const std::string& stem) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<GoldenModel>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[stem];
  if (!slot) {
    const std::string g = golden_dir() + "/" + stem;
    slot = std::make_unique<GoldenModel>(
        GoldenModel{load_safetensors(g + ".safetensors"), nchw_to_nhwc(read_npy(g + ".input.npy")),
                    read_npy(g + ".logits.npy"), read_npz(g + ".stages.npz")});
  }
  return *slot;
}

void check_golden_model(const GoldenModel& golden, const Network& net,
                        const std::map<std::size_t, std::string>& stage_ends, KernelPath path,
                        int threads) {
  ThreadScope scope(threads);
  Model model = Model::from_weights(net, golden.weights);
  model.set_kernel_path(path);
  std::size_t compared = 0;
  model.forward_trace(golden.input, [&](std::size_t i, const Tensor& out) {
    const auto it = stage_ends.find(i);
    if (it == stage_ends.end()) return;
    const NpyArray& g = golden.stages.at(it->second);
    const Tensor nhwc = g.shape.size() == 4 ? nchw_to_nhwc(g) : Tensor();
    const float* expect = g.shape.size() == 4 ? nhwc.data() : g.data.data();
    ASSERT_EQ(g.data.size(), out.size()) << it->second;
    const double d = max_abs_diff(out.data(), expect, out.size());
    double scale = 0;
    for (float v : g.data) scale = std::max(scale, std::abs(static_cast<double>(v)));
    std::printf("  %s: max |diff| %.3g (max |value| %.3g)\n", it->second.c_str(), d, scale);
    EXPECT_LE(d, kGoldenStageRelTol * std::max(1.0, scale)) << it->second;
    ++compared;
  });
  EXPECT_EQ(compared, stage_ends.size());
  const Tensor logits = model.forward(golden.input);
  ASSERT_EQ(logits.size(), golden.logits.data.size());
  const double d = max_abs_diff(logits.data(), golden.logits.data.data(), logits.size());
  std::printf("  logits: max |diff| %.3g\n", d);
  EXPECT_LE(d, kGoldenLogitAbsTol);
}

}  // namespace hwnas::test
