// int8 against fp32 in the engine, side by side in one run: a whole model (random weights and
// input from seed 0, as bench_engine) forward at each batch size and thread count, once as built
// (fp32) and once with every GEMM and depthwise layer quantized (evaluators/quant/, calibrated
// on 16 seeded noise images; LayerNorm, softmax, GELU and the attention matmuls stay fp32). A
// model with depthwise layers (ElasticViT) also runs int8_gemm (its depthwise layers left fp32,
// which shows what Int8Depthwise adds) and int8_faster (each depthwise layer in the precision
// its timing at calibration chose, DepthwisePrecision::faster). Counters: gflops
// (2 * MACs / time) and, in the context, the instruction set oneDNN dispatched its int8 kernels
// to. The ratio to quote is median(fp32) / median(int8) of the same model, batch and thread count.
// dw_fp32 / dw_int8: one depthwise layer alone (ElasticViT MBConv shapes), fp32 against
// Int8Depthwise.
// PyTorch's own int8 (FX quantization, fbgemm) on the same model: bench/int8_pytorch.py.
//
// Parameters: --model=[SPACE:]NAME (repeated; SPACE defaults to efficientformer; default l1),
// --batch=LIST (default 1,8),
// --threads=LIST (default 2).
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bench/bench_common.h"
#include "core/rng.h"
#include "evaluators/engine/model.h"
#include "evaluators/engine/tensor.h"
#include "evaluators/ops/depthwise_conv2d.h"
#include "evaluators/ops/dnnl_context.h"
#include "evaluators/ops/packed_gemm.h"
#include "evaluators/quant/int8_depthwise.h"
#include "evaluators/quant/int8_gemm.h"
#include "evaluators/quant/quantization.h"
#include "evaluators/runtime/thread_scope.h"
#include "spaces/registry.h"

namespace hwnas::bench {
namespace {

constexpr std::uint64_t kSeed = 0;

enum class Variant { fp32, int8, int8_gemm, int8_faster };

Tensor noise(const Network& net, int batch, std::uint64_t seed) {
  Tensor t(batch, net.input.h, net.input.w, net.input.c);
  Rng rng(seed);
  for (std::size_t i = 0; i < t.size(); ++i)
    t.data()[i] = static_cast<float>(2.0 * uniform_real(rng) - 1.0);
  return t;
}

struct Forward {
  Network net;
  Model model;
  Tensor input, logits;
  bool warm = false;
  Forward(Network n, int batch, Variant variant)
      : net(std::move(n)), model(Model::random(net, kSeed)), input(noise(net, batch, kSeed)) {
    CalibrationOptions options;
    options.depthwise = variant == Variant::int8_gemm     ? DepthwisePrecision::fp32
                        : variant == Variant::int8_faster ? DepthwisePrecision::faster
                                                          : DepthwisePrecision::int8;
    if (variant != Variant::fp32)
      quantize_int8(model, calibrate_int8(model, noise(net, 16, kSeed + 1), options, 8));
  }
};

void forward(benchmark::State& state, const std::string& model, Variant variant) {
  const int batch = static_cast<int>(state.range(0)), threads = static_cast<int>(state.range(1));
  ThreadScope scope(threads);
  static std::map<std::tuple<std::string, Variant, int, int>, std::unique_ptr<Forward>> cache;
  auto& f = cache[{model, variant, batch, threads}];
  if (!f) f = std::make_unique<Forward>(network_of(model), batch, variant);
  warm_up(f->warm ? 2 : 10, [&] { f->model.forward(f->input, f->logits); });
  f->warm = true;
  for (auto _ : state) {
    f->model.forward(f->input, f->logits);
    benchmark::ClobberMemory();
  }
  state.counters["gflops"] = benchmark::Counter(2e-9 * static_cast<double>(f->net.macs()) * batch,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

// One GEMM layer alone at one thread: m x k activations times k x n weights with bias and GELU,
// fp32 (gemm_packed_serial) or int8 (the layer's Int8Gemm site, quantization of the
// activations included).
void gemm(benchmark::State& state, bool int8) {
  const int m = static_cast<int>(state.range(0)), k = static_cast<int>(state.range(1)),
            n = static_cast<int>(state.range(2));
  Rng rng(kSeed);
  std::vector<float> a(static_cast<std::size_t>(m) * k), w(static_cast<std::size_t>(k) * n),
      bias(n), c(static_cast<std::size_t>(m) * n);
  for (float& v : a) v = static_cast<float>(2 * uniform_real(rng) - 1);
  for (float& v : w) v = static_cast<float>(0.2 * uniform_real(rng) - 0.1);
  const PackedWeights packed(w.data(), k, n, n);
  if (int8) {
    ActivationQuant q;
    q.scale = {2.0f / 255};
    q.zero_point = {128};
    packed.attach_site(std::make_shared<Int8Gemm>(packed, q, Granularity::per_channel));
  }
  const GemmEpilogue ep{bias.data(), Activation::gelu, nullptr, 0};
  warm_up(10, [&] { gemm_packed_serial(m, a.data(), k, packed, c.data(), n, ep); });
  for (auto _ : state) {
    gemm_packed_serial(m, a.data(), k, packed, c.data(), n, ep);
    benchmark::ClobberMemory();
  }
  state.counters["gops"] =
      benchmark::Counter(2e-9 * m * k * n, benchmark::Counter::kIsIterationInvariantRate);
}

// One depthwise layer alone at one thread, batch 1: an h x h x c input, k x k filter, stride s,
// padding k / 2, bias and Hardswish (MBConv's middle op), fp32 (ops/depthwise_conv2d) or int8
// (Int8Depthwise, quantization of the input included, f32 out as the engine's next op needs).
void depthwise(benchmark::State& state, bool int8) {
  const int h = static_cast<int>(state.range(0)), c = static_cast<int>(state.range(1)),
            k = static_cast<int>(state.range(2)), s = static_cast<int>(state.range(3));
  ThreadScope scope(1);
  const DepthwiseConv2dParams p{c, k, s, k / 2, Activation::hardswish};
  Rng rng(kSeed);
  Tensor in(1, h, h, c);
  for (std::size_t i = 0; i < in.size(); ++i)
    in.data()[i] = static_cast<float>(3.4 * uniform_real(rng) - 0.4);
  std::vector<float> w(static_cast<std::size_t>(k) * k * c), bias(c);
  for (float& v : w) v = static_cast<float>(uniform_real(rng) - 0.5);
  for (float& v : bias) v = static_cast<float>(uniform_real(rng) - 0.5);
  const int ho = (h + 2 * (k / 2) - k) / s + 1;
  Tensor out(1, ho, ho, c);
  std::unique_ptr<Int8Depthwise> op;
  if (int8) {
    const AffineU8 a = affine_u8(-0.4f, 3.0f);
    ActivationQuant q;
    q.scale = {a.scale};
    q.zero_point = {a.zero_point};
    op = std::make_unique<Int8Depthwise>(p, w.data(), bias.data(), q);
  }
  const auto once = [&] {
    if (op)
      op->run(in, out);
    else
      depthwise_conv2d(p, in, w.data(), bias.data(), out);
  };
  warm_up(10, once);
  for (auto _ : state) {
    once();
    benchmark::ClobberMemory();
  }
  state.counters["gops"] =
      benchmark::Counter(2e-9 * ho * ho * c * k * k, benchmark::Counter::kIsIterationInvariantRate);
}

void register_benchmarks(Params& params) {
  require_int8_cpu();
  const auto models = params.strings("model", {"l1"});
  const auto batches = params.ints("batch", {1, 8});
  const auto threads = params.ints("threads", {2});
  for (const auto& m : models) {
    const Network net = network_of(m);  // a bad --model fails here
    const bool depthwise =
        std::any_of(net.blocks.begin(), net.blocks.end(), [](const BlockSpec& b) {
          return b.kind == BlockKind::evit_mbconv || b.kind == BlockKind::evit_attention;
        });
    std::vector<std::pair<std::string, Variant>> variants{{"fp32/", Variant::fp32},
                                                          {"int8/", Variant::int8}};
    if (depthwise) {
      variants.emplace_back("int8_gemm/", Variant::int8_gemm);
      variants.emplace_back("int8_faster/", Variant::int8_faster);
    }
    for (const auto& [prefix, variant] : variants)
      timed(benchmark::RegisterBenchmark((prefix + m).c_str(), forward, m, variant),
            Timed{.repetitions = 5, .min_time_s = 1.0})
          ->ArgsProduct({batches, threads})
          ->ArgNames({"batch", "threads"});
  }
  // EfficientFormer-L1's layer shapes at batch 1 (rows as the engine's tiles see them): stem
  // conv 2 (im2col), Meta4D fc1 / fc2 at 56x56 and 14x14, Meta3D qkv and fc2 at 7x7.
  const std::vector<std::vector<std::int64_t>> shapes{
      {3136, 216, 48}, {224, 48, 192},  {224, 192, 48}, {196, 224, 896},
      {196, 896, 224}, {49, 448, 1536}, {49, 1792, 448}};
  for (const bool int8 : {false, true}) {
    auto* b = timed(benchmark::RegisterBenchmark(int8 ? "gemm_int8" : "gemm_fp32", gemm, int8),
                    Timed{.repetitions = 5, .min_time_s = 0.2});
    for (const auto& s : shapes) b->Args(s);
    b->ArgNames({"m", "k", "n"});
  }
  // ElasticViT's largest depthwise layers at 224 x 224 (shared/SPACES.md): the stem (width 24),
  // C1 (width 32, expand 6) and C2 (48 x 6) entry and inner layers, T1's entry MBConv and its
  // attention's 3 x 3 depthwise over V (6 heads x 16 x V-scale 4).
  const std::vector<std::vector<std::int64_t>> dw_shapes{
      {112, 24, 3, 1}, {112, 144, 5, 2}, {56, 192, 5, 1}, {56, 192, 3, 2},
      {28, 288, 5, 1}, {28, 288, 3, 2},  {14, 384, 3, 1}};
  for (const bool int8 : {false, true}) {
    auto* b = timed(benchmark::RegisterBenchmark(int8 ? "dw_int8" : "dw_fp32", depthwise, int8),
                    Timed{.repetitions = 5, .min_time_s = 0.2});
    for (const auto& s : dw_shapes) b->Args(s);
    b->ArgNames({"h", "c", "k", "s"});
  }
  benchmark::AddCustomContext("int8_isa", dnnl_isa_name());
  benchmark::AddCustomContext("int8_kernels", int8_kernels());
}

}  // namespace
}  // namespace hwnas::bench

int main(int argc, char** argv) {
  return hwnas::bench::run(
      argc, argv,
      {"int8",
       "  --model=NAME    an EfficientFormer member or arch, or SPACE:NAME (e.g. elasticvit:t1;\n"
       "                  repeated; default l1)\n"
       "  --batch=LIST    batch sizes (default 1,8)\n"
       "  --threads=LIST  engine thread counts (default 2)",
       {"--benchmark_enable_random_interleaving=true"},
       hwnas::bench::register_benchmarks});
}
