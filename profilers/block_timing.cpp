#include "profilers/block_timing.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "evaluators/engine/block.h"
#include "evaluators/engine/measure.h"
#include "evaluators/ops/layer_log.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {

std::string block_timing_name(BlockTiming t) {
  return t == BlockTiming::hot ? "hot" : "cold-weights";
}

BlockTiming block_timing_from_name(const std::string& name) {
  if (name == "hot") return BlockTiming::hot;
  if (name == "cold-weights") return BlockTiming::cold_weights;
  throw Error("unknown block timing '" + name + "' (use hot or cold-weights)");
}

std::int64_t parse_cache_size(const std::string& text) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    return 0;
  }
  if (v <= 0) return 0;
  std::string unit = text.substr(used);
  while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.back()))) unit.pop_back();
  if (unit.empty()) return v;
  if (unit == "K") return v << 10;
  if (unit == "M") return v << 20;
  if (unit == "G") return v << 30;
  return 0;
}

int cold_weights_copies(std::int64_t copy_bytes, std::int64_t cache_bytes) {
  return static_cast<int>(
      std::clamp<std::int64_t>(cache_bytes / std::max<std::int64_t>(1, copy_bytes) + 1, 1, 32));
}

std::int64_t last_level_cache_bytes() {
  namespace fs = std::filesystem;
  int best_level = 0;
  std::int64_t best = 0;
  std::error_code ec;
  const char* faked = std::getenv("HWNAS_CPU_CACHE_DIR");
  const fs::path dir = faked && *faked ? faked : "/sys/devices/system/cpu/cpu0/cache";
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().rfind("index", 0) != 0) continue;
    auto read = [&](const char* name) {
      std::ifstream in(entry.path() / name);
      std::string s;
      std::getline(in, s);
      return s;
    };
    const std::string type = read("type");
    if (type != "Unified" && type != "Data") continue;
    const int level = std::atoi(read("level").c_str());
    const std::int64_t size = parse_cache_size(read("size"));
    if (size > 0 && level > best_level) best_level = level, best = size;
  }
  if (best > 0) return best;
  const long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
  return llc > 0 ? llc : 32LL << 20;
}

TimingStats time_block(const BlockSpec& spec, BlockTiming mode, int threads, int batch,
                       std::uint64_t seed, const TimingConfig& timing, std::int64_t cache_bytes,
                       const TimingPreparer& prepare) {
  if (mode == BlockTiming::hot)
    return measure_block(
        spec,
        {.threads = threads, .batch = batch, .timing = timing, .seed = seed, .prepare = prepare});
  if (threads < 1 || batch < 1) throw Error("block timing: threads and batch must be >= 1");
  ThreadScope scope(threads);
  return ColdWeightsBench(spec, batch, seed, cache_bytes, prepare).time(timing);
}

struct ColdWeightsBench::State {
  std::vector<std::unique_ptr<Block>> blocks;
  // One input, or one per instance for a network's first block (its image is cold in a network).
  std::vector<Tensor> inputs;
  // One output per instance: inside a network every block writes a buffer of its own, which the
  // rest of the forward has evicted since the last forward; one shared output would stay hot.
  std::vector<Tensor> outputs;
  std::size_t next = 0;

  const Tensor& input(std::size_t i) const { return inputs[i % inputs.size()]; }
};

ColdWeightsBench::ColdWeightsBench(const BlockSpec& spec, int batch, std::uint64_t seed,
                                   std::int64_t cache_bytes, const TimingPreparer& prepare)
    : state_(std::make_unique<State>()) {
  if (batch < 1) throw Error("block timing: batch must be >= 1");
  const FeatureShape in = block_input_shape(spec), out = block_output_shape(spec);
  const bool own_inputs = block_reads_network_input(spec.kind);
  Rng rng(seed ^ 0x9e3779b97f4a7c15ull);
  auto add_input = [&] {
    Tensor& input = state_->inputs.emplace_back(batch, in.h, in.w, in.c);
    for (std::size_t k = 0; k < input.size(); ++k)
      input.data()[k] = static_cast<float>(2.0 * uniform_real(rng) - 1.0);
  };
  int copies = 1;  // until the first copy's footprint is known
  for (int i = 0; i < copies; ++i) {
    if (i == 0 || own_inputs) add_input();
    ParamReader reader = ParamReader::random(seed + static_cast<std::uint64_t>(i));
    LayerLog log;
    state_->blocks.push_back(make_block(spec, reader));
    Block& block = *state_->blocks.back();
    const std::int64_t before = tensor_bytes_allocated_by_this_thread();
    block.reserve(batch);
    state_->outputs.emplace_back(batch, out.h, out.w, out.c);
    if (i == 0) {
      // What one run reads and writes of its own: its weights once, the buffers it holds (a
      // Meta4D's hidden activations) and its output, as the engine allocated them, and its input
      // where it has one. Counting the weights alone built 32 copies of activation-heavy blocks
      // (248 MB for one 56x56 Meta4D) and held 13.5 GB resident over the efficientformer table;
      // counting everything the allocator gave a copy (mallinfo2) counted unread weights, and the
      // rotation of a classifier head then fit the cache.
      std::int64_t copy_bytes =
          block_cost(spec).params * 4 + tensor_bytes_allocated_by_this_thread() - before;
      if (own_inputs) copy_bytes += static_cast<std::int64_t>(state_->inputs[0].size() * 4);
      copies = cold_weights_copies(copy_bytes, cache_bytes);
    }
    Tensor& output = state_->outputs.back();
    const Tensor& input = state_->input(static_cast<std::size_t>(i));
    if (prepare) prepare(log.made(), [&] { block.forward(input, output); });
    // The unpacked copies only the reference kernels read were half of a downsample copy's
    // memory, and a copy never runs them.
    block.drop_reference_weights();
  }
}

ColdWeightsBench::~ColdWeightsBench() = default;

int ColdWeightsBench::copies() const { return static_cast<int>(state_->blocks.size()); }

TimingStats ColdWeightsBench::time(const TimingConfig& timing) {
  State& s = *state_;
  return time_calls(
      [&] {
        s.blocks[s.next]->forward(s.input(s.next), s.outputs[s.next]);
        s.next = (s.next + 1) % s.blocks.size();
      },
      timing);
}

}  // namespace hwnas
