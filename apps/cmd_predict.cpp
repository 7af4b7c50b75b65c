// `hwnas predict`: latency of an architecture from a device's latency table.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "apps/common.h"
#include "predictors/lut_latency_predictor.h"
#include "predictors/mixed_precision_latency.h"
#include "profilers/host_table.h"
#include "spaces/registry.h"

namespace hwnas::apps {
namespace {

class PredictCommand final : public Command {
 public:
  void setup(CLI::App& app) override {
    app.footer(
        "latency = sum of the blocks' table medians + the device's per-inference overhead "
        "(+ the learned correction when `hwnas validate --fit-correction` stored one).");
    add_space_option(app, space_);
    add_arch_option(app, arch_);
    app.add_option("--db", db_, "latency table file")->capture_default_str();
    app.add_option("--device", device_, "device name in the table")->capture_default_str();
    depthwise_opt_ = add_depthwise_option(
        app, depthwise_,
        "a +precision space's int8 stages read the twin DEVICE-int8, DEVICE-int8-dwfaster or "
        "DEVICE-int8-dwfp32 (`hwnas search --precision mixed --depthwise`)");
    app.add_flag("--json", json_,
                 "print {\"latency_ms\", \"sum_ms\", \"overhead_ms\", \"corrected\", \"blocks\": "
                 "[{\"key\", \"latency_ms\"}]}");
  }

  int run() override {
    const SearchSpace& space = get_space(space_);
    const Network net = space.decode(space.resolve(arch_));
    std::shared_ptr<const LutLatencyPredictor> pred = LutLatencyPredictor::open(db_, device_);
    // Precision genes: int8 blocks read the device's int8 twin (mixed_precision_latency.h).
    const bool mixed =
        std::find(net.block_int8.begin(), net.block_int8.end(), 1) != net.block_int8.end();
    std::shared_ptr<const LutLatencyPredictor> int8;
    const std::string int8_precision =
        mixed_int8_precision(space, depthwise_, depthwise_opt_->count() > 0);
    if (mixed) int8 = LutLatencyPredictor::open(db_, int8_device_name(device_, int8_precision));
    const double latency =
        mixed ? MixedPrecisionLatency(pred, int8).predict_ms(net) : pred->predict_ms(net);
    const double sum = mixed ? latency : pred->predict_sum_ms(net);
    const auto block_ms = [&](std::size_t i) {
      return *(mixed && net.block_int8[i] ? int8 : pred)->block_ms(net.blocks[i]);
    };
    if (json_) {
      nlohmann::json blocks = nlohmann::json::array();
      for (std::size_t i = 0; i < net.blocks.size(); ++i)
        blocks.push_back({{"key", net.blocks[i].key()},
                          {"latency_ms", block_ms(i)},
                          {"int8", mixed && net.block_int8[i]}});
      std::cout << nlohmann::json{{"latency_ms", latency},
                                  {"sum_ms", sum},
                                  {"overhead_ms", pred->overhead_ms()},
                                  {"corrected", pred->has_correction()},
                                  {"device", device_},
                                  {"db", db_},
                                  {"blocks", blocks}}
                       .dump()
                << "\n";
      return 0;
    }
    for (std::size_t i = 0; i < net.blocks.size(); ++i)
      std::printf("%10.4f ms  %s%s\n", block_ms(i), net.blocks[i].key().c_str(),
                  mixed && net.block_int8[i] ? "  (int8)" : "");
    std::printf("%10.4f ms  per-inference overhead\n", pred->overhead_ms());
    std::printf("latency %.4f ms (sum %.4f ms%s) on device '%s' from %s\n", latency, sum,
                pred->has_correction() ? ", with learned correction" : "", device_.c_str(),
                db_.c_str());
    return 0;
  }

 private:
  std::string space_, arch_, db_ = "hwnas.db", device_ = "host", depthwise_;
  CLI::Option* depthwise_opt_ = nullptr;
  bool json_ = false;
};

HWNAS_REGISTER_COMMAND(PredictCommand, "predict",
                       "Predict an architecture's latency from a device's latency table");

}  // namespace
}  // namespace hwnas::apps
