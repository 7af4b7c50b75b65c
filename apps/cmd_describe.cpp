// `hwnas describe`: the blocks of an architecture with their params and MACs.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "apps/common.h"
#include "spaces/arch_description.h"
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
    const nlohmann::json d = describe_arch(space, space.resolve(arch_));
    if (json_) {
      std::cout << d.dump(2) << "\n";
      return 0;
    }
    std::cout << space.name() << (d.contains("member") ? " " + d["member"].get<std::string>() : "")
              << ": " << d["arch"].dump() << "\n"
              << space.summary() << "\n\n";
    std::printf("%-4s %-56s %14s %16s\n", "#", "block key", "params", "MACs");
    const auto& blocks = d["blocks"];
    for (std::size_t i = 0; i < blocks.size(); ++i)
      std::printf("%-4zu %-56s %14lld %16lld\n", i, blocks[i]["key"].get<std::string>().c_str(),
                  blocks[i]["params"].get<long long>(), blocks[i]["macs"].get<long long>());
    const auto params = d["params"].get<long long>(), macs = d["macs"].get<long long>();
    std::printf("\ntotal: %lld params (%.2f M), %lld MACs (%.3f GMACs), %zu blocks\n", params,
                static_cast<double>(params) / 1e6, macs, static_cast<double>(macs) / 1e9,
                blocks.size());
    for (const auto& [k, v] : d.items())  // the space's extra metrics
      if (k != "space" && k != "arch" && k != "params" && k != "macs" && k != "blocks" &&
          k != "member")
        std::cout << k << ": " << v.dump() << "\n";
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
