// The `hwnas` subcommand table: each apps/cmd_<name>.cpp defines one subcommand and registers
// it with HWNAS_REGISTER_COMMAND, so adding a command touches no shared file but CMakeLists.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace hwnas::apps {

/// One subcommand. setup() declares its options on the CLI11 subcommand (storing the values in
/// members); run() executes it after parsing and returns the exit code. Bad input is reported by
/// throwing hwnas::Error (main prints `error: ...` and exits 2).
class Command {
 public:
  virtual ~Command() = default;
  virtual void setup(CLI::App& app) = 0;
  virtual int run() = 0;
};

struct CommandInfo {
  std::string name;
  std::string description;
  std::function<std::unique_ptr<Command>()> make;
};

/// Every registered subcommand (filled before main by static registrars).
std::vector<CommandInfo>& command_table();

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::string description,
                   std::function<std::unique_ptr<Command>()> make) {
    command_table().push_back({std::move(name), std::move(description), std::move(make)});
  }
};

}  // namespace hwnas::apps

#define HWNAS_REGISTER_COMMAND(Type, name, description)                 \
  static const ::hwnas::apps::CommandRegistrar hwnas_registrar_##Type { \
    name, description, [] { return std::make_unique<Type>(); }          \
  }
