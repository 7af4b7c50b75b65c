// hwnas: hardware-aware neural architecture search for efficient vision transformers.
#include <algorithm>
#include <csignal>
#include <exception>
#include <iostream>

#include "apps/command.h"
#include "core/build_id.h"
#include "core/error.h"
#include "results/onnxruntime_backend.h"

namespace hwnas::apps {
std::vector<CommandInfo>& command_table() {
  static std::vector<CommandInfo> table;
  return table;
}
}  // namespace hwnas::apps

int main(int argc, char** argv) {
  using namespace hwnas::apps;
  // A write past `ulimit -f` raises SIGXFSZ, whose default action kills the process without a
  // word; ignored, the write fails with EFBIG and the error names the file and the fix.
  std::signal(SIGXFSZ, SIG_IGN);
  // Backends that live above profilers/ enter the registry here (their layer may not be seen by
  // the registry's own list).
  hwnas::register_onnxruntime_backend();
  CLI::App app{
      "hwnas: hardware-aware architecture search of efficient vision transformers "
      "(EfficientFormer, ElasticViT, TurboViT) with per-device latency tables"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("hwnas ") + hwnas::build_version() + " (git " +
                                        hwnas::build_git_hash() + ")");
  auto& table = command_table();
  std::sort(table.begin(), table.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::vector<std::pair<CLI::App*, std::unique_ptr<Command>>> commands;
  for (const auto& info : table) {
    CLI::App* sub = app.add_subcommand(info.name, info.description);
    auto cmd = info.make();
    cmd->setup(*sub);
    commands.emplace_back(sub, std::move(cmd));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << " (see `hwnas "
              << (app.get_subcommands().empty()
                      ? std::string("--help")
                      : app.get_subcommands().front()->get_name() + " --help")
              << "`)\n";
    return 2;
  }
  try {
    for (auto& [sub, cmd] : commands)
      if (sub->parsed()) return cmd->run();
  } catch (const hwnas::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
