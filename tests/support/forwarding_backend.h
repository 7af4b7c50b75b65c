// A Backend that forwards every call to another one: tests derive from it and override the one
// call whose behaviour they script (a kill, scaled rows, bursty windows).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "profilers/backend.h"

namespace hwnas::test {

class ForwardingBackend : public Backend {
 public:
  explicit ForwardingBackend(Backend& target) : target_(target) {}
  std::string name() const override { return target_.name(); }
  DeviceProfile device(const std::string& n) override { return target_.device(n); }
  std::vector<TimingStats> measure_blocks(const std::vector<BlockSpec>& blocks,
                                          const TimingConfig& timing) override {
    return target_.measure_blocks(blocks, timing);
  }
  TimingStats measure_network(const Network& net, const TimingConfig& timing) override {
    return target_.measure_network(net, timing);
  }
  std::vector<TimingStats> measure_networks(const std::vector<Network>& nets,
                                            const TimingConfig& timing, int windows) override {
    return target_.measure_networks(nets, timing, windows);
  }
  std::optional<std::vector<double>> inference_overheads(const std::vector<Network>& nets,
                                                         const TimingConfig& timing,
                                                         int windows) override {
    return target_.inference_overheads(nets, timing, windows);
  }
  int preferred_batch() const override { return target_.preferred_batch(); }

 protected:
  Backend& target_;
};

}  // namespace hwnas::test
