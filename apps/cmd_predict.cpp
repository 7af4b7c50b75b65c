// `hwnas predict`: latency of an architecture from a device's latency table.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "apps/common.h"
#include "predictors/lut_latency_predictor.h"
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
    app.add_flag("--json", json_,
                 "print {\"latency_ms\", \"sum_ms\", \"overhead_ms\", \"corrected\", \"blocks\": "
                 "[{\"key\", \"latency_ms\"}]}");
  }

  int run() override {
    const SearchSpace& space = get_space(space_);
    const Network net = space.decode(space.resolve(arch_));
    const auto pred = LutLatencyPredictor::open(db_, device_);
    const double latency = pred->predict_ms(net);
    const double sum = pred->predict_sum_ms(net);
    if (json_) {
      nlohmann::json blocks = nlohmann::json::array();
      for (const auto& b : net.blocks)
        blocks.push_back({{"key", b.key()}, {"latency_ms", *pred->block_ms(b)}});
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
    for (const auto& b : net.blocks)
      std::printf("%10.4f ms  %s\n", *pred->block_ms(b), b.key().c_str());
    std::printf("%10.4f ms  per-inference overhead\n", pred->overhead_ms());
    std::printf("latency %.4f ms (sum %.4f ms%s) on device '%s' from %s\n", latency, sum,
                pred->has_correction() ? ", with learned correction" : "", device_.c_str(),
                db_.c_str());
    return 0;
  }

 private:
  std::string space_, arch_, db_ = "hwnas.db", device_ = "host";
  bool json_ = false;
};

HWNAS_REGISTER_COMMAND(PredictCommand, "predict",
                       "Predict an architecture's latency from a device's latency table");

}  // namespace
}  // namespace hwnas::apps
