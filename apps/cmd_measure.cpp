// `hwnas measure`: end-to-end latency of an architecture on the built-in engine, or on another
// registered backend (onnxruntime: the network as `hwnas export --format onnx` writes it).
#include <algorithm>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "apps/common.h"
#include "core/error.h"
#include "evaluators/engine/measure.h"
#include "evaluators/quant/quantization.h"
#include "profilers/backend_registry.h"
#include "spaces/registry.h"

namespace hwnas::apps {
namespace {

class MeasureCommand final : public Command {
 public:
  void setup(CLI::App& app) override {
    add_space_option(app, space_);
    add_arch_option(app, arch_);
    app.add_option("--threads", opt_.threads, "engine threads")->capture_default_str();
    app.add_option("--batch", opt_.batch, "images per forward")->capture_default_str();
    app.add_option("--warmup", opt_.timing.warmup, "untimed forwards first")->capture_default_str();
    app.add_option("--repeats", opt_.timing.min_repeats, "timed forwards (at least)")
        ->capture_default_str();
    app.add_option("--seed", seed_, "seed of the random weights and input")->capture_default_str();
    app.add_option("--backend", backend_,
                   "local (hwnas's engine) or onnxruntime (ONNX Runtime's CPU provider, --threads "
                   "intra-op threads, batch 1)")
        ->check(CLI::IsMember({"local", "onnxruntime"}))
        ->capture_default_str();
    app.add_flag("--json", json_,
                 "print {\"latency_ms\", \"p10_ms\", \"p90_ms\", \"repeats\", \"threads\", ...}");
  }

  int run() override {
    const SearchSpace& space = get_space(space_);
    const Network net = space.decode(space.resolve(arch_));
    // --repeats is the count asked for: no minimum time stretches it.
    opt_.timing.min_time_ms = 0;
    opt_.timing.max_repeats = std::max(opt_.timing.min_repeats, 1);
    opt_.seed = seed_;
    // Precision genes: the int8 stages run quantized, as the search and the tables time them.
    const bool int8_stages =
        std::find(net.block_int8.begin(), net.block_int8.end(), 1) != net.block_int8.end();
    if (int8_stages) opt_.prepare = int8_timing_preparer();
    TimingStats st;
    if (int8_stages && backend_ != "local")
      throw Error("--backend " + backend_ +
                  " runs fp32 only; measure an arch with int8 stages "
                  "with --backend local");
    if (backend_ == "local") {
      st = measure_network(net, opt_);
    } else {
      if (opt_.batch != 1) throw Error("--backend " + backend_ + " measures batch 1 only");
      BackendSpec spec;
      spec.name = backend_;
      spec.threads = opt_.threads;
      spec.seed = seed_;
      st = make_backend(spec)->measure_network(net, opt_.timing);
    }
    if (json_) {
      nlohmann::json j = {
          {"latency_ms", st.median_ms}, {"p10_ms", st.p10_ms},     {"p90_ms", st.p90_ms},
          {"repeats", st.repeats},      {"threads", opt_.threads}, {"batch", opt_.batch},
          {"mean_ms", st.mean_ms},      {"std_ms", st.std_ms},     {"min_ms", st.min_ms},
          {"macs", net.macs()},         {"backend", backend_}};
      std::cout << j.dump() << "\n";
    } else {
      std::printf(
          "latency %.3f ms (median of %d; p10 %.3f, p90 %.3f, min %.3f) at %d thread(s), "
          "batch %d; %.1f GFLOP/s\n",
          st.median_ms, st.repeats, st.p10_ms, st.p90_ms, st.min_ms, opt_.threads, opt_.batch,
          2.0 * static_cast<double>(net.macs()) * opt_.batch / (st.median_ms * 1e6));
    }
    return 0;
  }

 private:
  std::string space_, arch_, backend_ = "local";
  MeasureOptions opt_;
  std::uint64_t seed_ = 0;
  bool json_ = false;
};

HWNAS_REGISTER_COMMAND(MeasureCommand, "measure",
                       "Measure end-to-end latency on the built-in engine or ONNX Runtime");

}  // namespace
}  // namespace hwnas::apps
