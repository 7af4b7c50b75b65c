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

std::vector<float> run_ort_raw(const std::string& modules, const std::string& path,
                               const std::vector<float>& input,
                               const std::vector<std::int64_t>& dims,
                               std::vector<std::int64_t>* out_dims) {
  const std::string dir = make_temp_dir("hwnas-ort");
  std::ofstream(dir + "/in.f32", std::ios::binary)
      .write(reinterpret_cast<const char*>(input.data()),
             static_cast<std::streamsize>(input.size() * 4));
  std::string shape;
  for (auto d : dims) shape += (shape.empty() ? "" : ",") + std::to_string(d);
  const auto r = run_command("node " HWNAS_ORT_SCRIPT " " + modules + " " + path + " " + dir +
                             "/in.f32 " + shape + " " + dir + "/out.f32");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (out_dims) {  // the script prints {"output": name, "dims": [...]}
    out_dims->clear();
    const auto at = r.out.find("\"dims\":[");
    if (at != std::string::npos) {
      std::size_t i = at + 8;
      while (i < r.out.size() && r.out[i] != ']') {
        std::size_t used = 0;
        out_dims->push_back(std::stoll(r.out.substr(i), &used));
        i += used;
        if (i < r.out.size() && r.out[i] == ',') ++i;
      }
    }
  }
  std::ifstream in(dir + "/out.f32", std::ios::binary);
  const std::vector<char> out(std::istreambuf_iterator<char>(in), {});
  std::vector<float> values(out.size() / 4);
  std::memcpy(values.data(), out.data(), values.size() * 4);
  return values;
}

std::vector<float> run_ort(const std::string& modules, const std::string& path,
                           const Tensor& input) {
  const int n = input.n(), h = input.h(), w = input.w(), c = input.c();
  std::vector<float> nchw(input.size());
  for (int b = 0; b < n; ++b)
    for (int ch = 0; ch < c; ++ch)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          nchw[((static_cast<std::size_t>(b) * c + ch) * h + y) * w + x] = input.at(b, y, x, ch);
  return run_ort_raw(modules, path, nchw, {n, c, h, w});
}

}  // namespace hwnas::test
