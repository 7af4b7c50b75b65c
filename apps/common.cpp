#include "apps/common.h"

#include "spaces/registry.h"

namespace hwnas::apps {

void add_space_option(CLI::App& app, std::string& space) {
  space = "efficientformer";
  app.add_option("--space", space, "search space (see `hwnas spaces`)")->capture_default_str();
}

void add_arch_option(CLI::App& app, std::string& arch, bool required) {
  auto* opt = app.add_option("--arch", arch,
                             "architecture: a named member (e.g. l1), inline JSON or a JSON file");
  if (required) opt->required();
}

const SearchSpace& resolve_space(const std::string& space) { return get_space(space); }

}  // namespace hwnas::apps
