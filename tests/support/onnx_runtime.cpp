#include "tests/support/onnx_runtime.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/support/test_support.h"

namespace hwnas::test {

namespace fs = std::filesystem;

std::optional<std::string> ort_modules() {
  const char* env = std::getenv("HWNAS_ORT_NODE_MODULES");
  const std::string dir = env ? env : HWNAS_ORT_NODE_MODULES;
  if (!fs::exists(dir + "/onnxruntime-node/package.json")) return std::nullopt;
  if (run_command("node --version").exit_code != 0) return std::nullopt;
  return dir;
}

std::vector<float> run_ort(const std::string& modules, const std::string& path,
                           const Tensor& input) {
  const std::string dir = make_temp_dir("hwnas-ort");
  const int n = input.n(), h = input.h(), w = input.w(), c = input.c();
  std::vector<float> nchw(input.size());
  for (int b = 0; b < n; ++b)
    for (int ch = 0; ch < c; ++ch)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          nchw[((static_cast<std::size_t>(b) * c + ch) * h + y) * w + x] = input.at(b, y, x, ch);
  std::ofstream(dir + "/in.f32", std::ios::binary)
      .write(reinterpret_cast<const char*>(nchw.data()),
             static_cast<std::streamsize>(nchw.size() * 4));
  const std::string shape = std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(h) +
                            "," + std::to_string(w);
  const auto r = run_command("node " HWNAS_ORT_SCRIPT " " + modules + " " + path + " " + dir +
                             "/in.f32 " + shape + " " + dir + "/out.f32");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(dir + "/out.f32", std::ios::binary);
  const std::vector<char> out(std::istreambuf_iterator<char>(in), {});
  std::vector<float> logits(out.size() / 4);
  std::memcpy(logits.data(), out.data(), logits.size() * 4);
  return logits;
}

}  // namespace hwnas::test
