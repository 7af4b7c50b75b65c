// `hwnas spaces`: lists the search spaces and their choice dimensions.
#include <iostream>

#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "spaces/registry.h"

namespace hwnas::apps {
namespace {

class SpacesCommand final : public Command {
 public:
  void setup(CLI::App& app) override { app.add_flag("--json", json_, "print JSON"); }

  int run() override {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& name : space_names()) {
      const SearchSpace& s = get_space(name);
      nlohmann::json dims = nlohmann::json::object();
      for (const auto& d : s.dims()) dims[d.name] = d.options;
      nlohmann::json members = nlohmann::json::array();
      for (const auto& [m, a] : s.named()) members.push_back(m);
      out.push_back({{"name", name}, {"summary", s.summary()}, {"dims", dims}, {"named", members}});
      if (!json_) {
        std::cout << name << "\n  " << s.summary() << "\n  named: ";
        for (const auto& m : members) std::cout << m.get<std::string>() << ' ';
        std::cout << "\n  dims:";
        for (const auto& d : s.dims())
          std::cout << ' ' << d.name << '{' << d.options.front()
                    << (d.options.size() > 1 ? ".." + std::to_string(d.options.back()) : "") << '}';
        std::cout << "\n";
      }
    }
    if (json_) std::cout << out.dump(2) << "\n";
    return 0;
  }

 private:
  bool json_ = false;
};

HWNAS_REGISTER_COMMAND(SpacesCommand, "spaces",
                       "List the search spaces, their choices and named members");

}  // namespace
}  // namespace hwnas::apps
