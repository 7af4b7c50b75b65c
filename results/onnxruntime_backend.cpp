#include "results/onnxruntime_backend.h"

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <nlohmann/json.hpp>

#include "core/build_id.h"
#include "core/error.h"
#include "evaluators/engine/model.h"
#include "profilers/backend_registry.h"
#include "profilers/device_profile.h"
#include "results/onnx_export.h"

namespace hwnas {
namespace {

namespace fs = std::filesystem;

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string node_modules(const OnnxRuntimeOptions& o) {
  if (!o.node_modules.empty()) return o.node_modules;
  if (const char* env = std::getenv("HWNAS_ORT_NODE_MODULES")) return env;
  return HWNAS_ORT_NODE_MODULES;
}

}  // namespace

OnnxRuntimeBackend::OnnxRuntimeBackend(OnnxRuntimeOptions options) : options_(std::move(options)) {
  if (options_.threads < 1) throw Error("onnxruntime backend: --threads must be >= 1");
  const auto& o = options_.optimization;
  if (o != "disabled" && o != "basic" && o != "extended" && o != "all")
    throw Error("onnxruntime backend: graph optimization '" + o +
                "' is not disabled, basic, extended or all");
  const std::string modules = node_modules(options_);
  if (!fs::exists(modules + "/onnxruntime-node/package.json"))
    throw Error("ONNX Runtime is not installed in '" + modules +
                "': run scripts/install-deps.sh (npm ci --ignore-scripts --prefix tools/onnx) or "
                "set HWNAS_ORT_NODE_MODULES");
  const char* script_env = std::getenv("HWNAS_ORT_WORKER");
  const std::string script = script_env ? script_env : HWNAS_ORT_WORKER;
  worker_ = std::make_unique<LineProcess>("exec node " + quoted(script) + " " + quoted(modules),
                                          "ONNX Runtime worker", options_.timeout_s);
  const auto reply = nlohmann::json::parse(worker_->request(R"({"op":"version"})"), nullptr, false);
  if (!reply.is_object() || !reply.contains("onnxruntime"))
    worker_->fail("answered the version request with something else");
  version_ = reply["onnxruntime"].get<std::string>();
  char tmpl[] = "/tmp/hwnas-ort-models-XXXXXX";
  if (!mkdtemp(tmpl)) throw Error("onnxruntime backend: cannot create a temporary directory");
  dir_ = tmpl;
}

OnnxRuntimeBackend::~OnnxRuntimeBackend() {
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

DeviceProfile OnnxRuntimeBackend::device(const std::string& device_name) {
  DeviceProfile p =
      host_device_profile(device_name.empty() ? "onnxruntime" : device_name, options_.threads, 1);
  p.runtime = "onnxruntime " + version_ + " cpu, graph optimization " + options_.optimization +
              " (hwnas export " + std::string(build_git_hash()) + ")";
  return p;
}

TimingStats OnnxRuntimeBackend::time_model(const std::string& path,
                                           const std::vector<std::int64_t>& input_dims,
                                           const TimingConfig& timing, const std::string& what) {
  const nlohmann::json request = {{"op", "time"},
                                  {"model", path},
                                  {"input_dims", input_dims},
                                  {"threads", options_.threads},
                                  {"optimization", options_.optimization},
                                  {"warmup", timing.warmup},
                                  {"min_repeats", timing.min_repeats},
                                  {"min_time_ms", timing.min_time_ms},
                                  {"max_repeats", timing.max_repeats},
                                  {"seed", options_.seed % 2147483647 + 1}};
  const auto reply = nlohmann::json::parse(worker_->request(request.dump()), nullptr, false);
  std::error_code ec;
  fs::remove(path, ec);
  if (!reply.is_object()) worker_->fail("answered with a line that is not a JSON object");
  if (reply.contains("error"))
    throw Error("ONNX Runtime rejected " + what + ": " + reply["error"].get<std::string>());
  if (!reply.contains("samples_ms") || !reply["samples_ms"].is_array() ||
      reply["samples_ms"].empty())
    worker_->fail("answered without samples_ms");
  std::vector<double> samples;
  for (const auto& v : reply["samples_ms"]) samples.push_back(v.get<double>());
  return summarize_ms(std::move(samples));
}

std::vector<TimingStats> OnnxRuntimeBackend::measure_blocks(const std::vector<BlockSpec>& blocks,
                                                            const TimingConfig& timing) {
  std::vector<TimingStats> out;
  OnnxExportOptions eo;
  eo.native_layouts = true;
  for (const auto& b : blocks) {
    Network net;
    net.space = "block";
    net.input = block_input_shape(b);
    net.blocks = {b};
    const std::string path = dir_ + "/block" + std::to_string(counter_++) + ".onnx";
    export_onnx(net, Model::random_weights(net, options_.seed), path, eo);
    out.push_back(time_model(path, onnx_input_dims(net, eo), timing, "block '" + b.key() + "'"));
  }
  return out;
}

TimingStats OnnxRuntimeBackend::measure_network(const Network& net, const TimingConfig& timing) {
  const std::string path = dir_ + "/net" + std::to_string(counter_++) + ".onnx";
  export_onnx(net, Model::random_weights(net, options_.seed), path);
  return time_model(path, onnx_input_dims(net, {}), timing,
                    "the network of " + std::to_string(net.blocks.size()) + " blocks");
}

void register_onnxruntime_backend() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_backend("onnxruntime", [](const BackendSpec& s) -> std::unique_ptr<Backend> {
      OnnxRuntimeOptions o;
      o.threads = s.threads;
      o.seed = s.seed;
      return std::make_unique<OnnxRuntimeBackend>(o);
    });
  });
}

}  // namespace hwnas
