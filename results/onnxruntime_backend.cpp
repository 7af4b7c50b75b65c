#include "results/onnxruntime_backend.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <onnx/onnx_pb.h>

#include <fstream>

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

// The smallest model a run can take: one Identity on a (1, 8) float input. Its run time is the
// runtime's cost of a run itself (binding, output allocation, the executor), paid once by a
// network and once by every block timed alone.
void write_identity_model(const std::string& path) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("hwnas");
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("identity");
  for (auto* v : {g->add_input(), g->add_output()}) {
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    t->mutable_shape()->add_dim()->set_dim_value(1);
    t->mutable_shape()->add_dim()->set_dim_value(8);
  }
  g->mutable_input(0)->set_name("input");
  g->mutable_output(0)->set_name("output");
  auto* n = g->add_node();
  n->set_op_type("Identity");
  n->add_input("input");
  n->add_output("output");
  std::ofstream out(path, std::ios::binary);
  if (!m.SerializeToOstream(&out)) throw Error("onnxruntime backend: cannot write '" + path + "'");
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
              ", block rows net of the run cost (hwnas export " + std::string(build_git_hash()) +
              ")";
  return p;
}

TimingStats OnnxRuntimeBackend::time_model(const std::string& path,
                                           const std::vector<std::int64_t>& input_dims,
                                           const TimingConfig& timing, const std::string& what,
                                           int copies, bool distinct_inputs,
                                           OrtRunBreakdown* breakdown) {
  const nlohmann::json request = {{"op", "time"},
                                  {"model", path},
                                  {"input_dims", input_dims},
                                  {"threads", options_.threads},
                                  {"optimization", options_.optimization},
                                  {"warmup", timing.warmup},
                                  {"min_repeats", timing.min_repeats},
                                  {"min_time_ms", timing.min_time_ms},
                                  {"max_repeats", timing.max_repeats},
                                  {"seed", options_.seed % 2147483647 + 1},
                                  {"copies", copies},
                                  {"distinct_inputs", distinct_inputs},
                                  {"nodes", breakdown != nullptr}};
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
  if (breakdown) {
    if (!reply.contains("kernel_ms") || !reply["kernel_ms"].is_number() ||
        !reply.contains("op_ms") || !reply["op_ms"].is_object())
      worker_->fail("answered a node breakdown without kernel_ms and op_ms");
    breakdown->kernel_ms = reply["kernel_ms"].get<double>();
    for (const auto& [op, ms] : reply["op_ms"].items()) breakdown->op_ms[op] = ms.get<double>();
  }
  return summarize_ms(std::move(samples));
}

double OnnxRuntimeBackend::run_cost_ms(const TimingConfig& timing) {
  if (!run_cost_ms_) {
    const std::string path = dir_ + "/identity.onnx";
    write_identity_model(path);
    // Every row is net of this one median, so it gets at least 200 runs and 50 ms even when
    // the rows are timed briefly: a median of 3 runs caught in a slow moment once exceeded
    // five small blocks' own medians and turned their rows into 0 (a parallel ctest run).
    TimingConfig t = timing;
    t.warmup = std::max(t.warmup, 20);
    t.min_repeats = std::max(t.min_repeats, 200);
    t.min_time_ms = std::max(t.min_time_ms, 50.0);
    t.max_repeats = std::max(t.max_repeats, t.min_repeats);
    run_cost_ms_ = time_model(path, {1, 8}, t, "the Identity model").median_ms;
  }
  return *run_cost_ms_;
}

std::vector<TimingStats> OnnxRuntimeBackend::measure_blocks(const std::vector<BlockSpec>& blocks,
                                                            const TimingConfig& timing) {
  // A network pays the runtime's run cost once, a table of blocks once per block: the rows go
  // without it, and the table's per-inference overhead (e2e - sum of rows) takes it back once.
  const double cost = run_cost_ms(timing);
  std::vector<TimingStats> out;
  for (const auto& b : blocks) {
    std::vector<std::int64_t> dims;
    const std::string path = export_block(b, dims);
    const bool cold = options_.block_timing == BlockTiming::cold_weights;
    TimingStats st = time_model(
        path, dims, timing, "block '" + b.key() + "'",
        cold ? cold_weights_copies(block_cost(b).params * 4, kColdWeightsRotationBytes) : 1,
        cold && block_reads_network_input(b.kind));
    for (double* v : {&st.median_ms, &st.p10_ms, &st.p90_ms, &st.mean_ms, &st.min_ms})
      *v = std::max(0.0, *v - cost);
    for (double& v : st.samples_ms) v = std::max(0.0, v - cost);
    out.push_back(st);
  }
  return out;
}

std::string OnnxRuntimeBackend::export_block(const BlockSpec& block,
                                             std::vector<std::int64_t>& input_dims) {
  Network net;
  net.space = "block";
  net.input = block_input_shape(block);
  net.blocks = {block};
  OnnxExportOptions eo;
  eo.native_layouts = true;
  const std::string path = dir_ + "/block" + std::to_string(counter_++) + ".onnx";
  export_onnx(net, Model::random_weights(net, options_.seed), path, eo);
  input_dims = onnx_input_dims(net, eo);
  return path;
}

OrtRunBreakdown OnnxRuntimeBackend::breakdown_block(const BlockSpec& block,
                                                    const TimingConfig& timing) {
  std::vector<std::int64_t> dims;
  const std::string path = export_block(block, dims);
  OrtRunBreakdown out;
  out.run = time_model(path, dims, timing, "block '" + block.key() + "'", 1, false, &out);
  return out;
}

OrtRunBreakdown OnnxRuntimeBackend::breakdown_network(const Network& net,
                                                      const TimingConfig& timing) {
  const std::string path = dir_ + "/net" + std::to_string(counter_++) + ".onnx";
  export_onnx(net, Model::random_weights(net, options_.seed), path);
  OrtRunBreakdown out;
  out.run =
      time_model(path, onnx_input_dims(net, {}), timing,
                 "the network of " + std::to_string(net.blocks.size()) + " blocks", 1, false, &out);
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
      o.block_timing = s.block_timing;
      return std::make_unique<OnnxRuntimeBackend>(o);
    });
  });
}

}  // namespace hwnas
