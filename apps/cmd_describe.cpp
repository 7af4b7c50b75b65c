// `hwnas describe`: the blocks of an architecture with their params and MACs.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "apps/common.h"
#include "spaces/registry.h"

namespace hwnas::apps {
namespace {

class DescribeCommand final : public Command {
 public:
  void setup(CLI::App& app) override {
    add_space_option(app, space_);
    add_arch_option(app, arch_);
    app.add_flag("--json", json_,
                 "print JSON: {space, arch, params, macs, blocks:[{key, params, macs}]}");
  }

  int run() override {
    const SearchSpace& space = get_space(space_);
    const Arch arch = space.resolve(arch_);
    const Network net = space.decode(arch);
    nlohmann::json blocks = nlohmann::json::array();
    for (const auto& b : net.blocks) {
      const BlockCost c = block_cost(b);
      blocks.push_back({{"key", b.key()}, {"params", c.params}, {"macs", c.macs}});
    }
    const std::string member = space.member_name(arch);
    if (json_) {
      nlohmann::json out = {{"space", space.name()},
                            {"arch", space.to_json(arch)},
                            {"params", net.params()},
                            {"macs", net.macs()},
                            {"blocks", blocks}};
      const nlohmann::json extra = space.extra_metrics(arch);  // e.g. reference_mflops
      for (const auto& [k, v] : extra.items()) out[k] = v;
      if (!member.empty()) out["member"] = member;
      std::cout << out.dump(2) << "\n";
      return 0;
    }
    std::cout << space.name() << (member.empty() ? "" : " " + member) << ": "
              << space.to_json(arch).dump() << "\n"
              << space.summary() << "\n\n";
    std::printf("%-4s %-56s %14s %16s\n", "#", "block key", "params", "MACs");
    for (std::size_t i = 0; i < net.blocks.size(); ++i)
      std::printf("%-4zu %-56s %14lld %16lld\n", i, blocks[i]["key"].get<std::string>().c_str(),
                  static_cast<long long>(blocks[i]["params"]),
                  static_cast<long long>(blocks[i]["macs"]));
    std::printf("\ntotal: %lld params (%.2f M), %lld MACs (%.3f GMACs), %zu blocks\n",
                static_cast<long long>(net.params()), static_cast<double>(net.params()) / 1e6,
                static_cast<long long>(net.macs()), static_cast<double>(net.macs()) / 1e9,
                net.blocks.size());
    const nlohmann::json extra = space.extra_metrics(arch);
    for (const auto& [k, v] : extra.items()) std::cout << k << ": " << v.dump() << "\n";
    std::cout << "MACs count conv, linear and the QK^T / AV attention matmuls (batch 1); params "
                 "include both classifier heads where the space has them.\n";
    return 0;
  }

 private:
  std::string space_, arch_;
  bool json_ = false;
};

HWNAS_REGISTER_COMMAND(DescribeCommand, "describe",
                       "Print an architecture's blocks, params and MACs");

}  // namespace
}  // namespace hwnas::apps
