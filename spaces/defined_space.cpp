#include "spaces/defined_space.h"

#include <nlohmann/json.hpp>

#include "spaces/error.h"

namespace hwnas {

DefinedSpace::DefinedSpace(std::string_view definition_name, std::size_t genes,
                           std::string_view decoder)
    : def_(embedded_space_def(definition_name)) {
  if (def_.dims.size() != genes)
    throw Error("space definition " + def_.name + " must have " + std::to_string(genes) +
                " dims (the " + std::string(decoder) + " decoder's genes)");
}

void DefinedSpace::load_named() {
  for (const auto& [member, j] : def_.named) {
    nlohmann::json full = j;
    full["space"] = def_.name;
    named_.emplace_back(member, from_json(full));
  }
}

Arch DefinedSpace::at_last_options() const {
  Arch a{def_.name, std::vector<int>(def_.dims.size())};
  for (std::size_t i = 0; i < a.genes.size(); ++i) a.genes[i] = def_.dims[i].options.back();
  return a;
}

Arch DefinedSpace::at_first_options() const {
  Arch a{def_.name, std::vector<int>(def_.dims.size())};
  for (std::size_t i = 0; i < a.genes.size(); ++i) a.genes[i] = def_.dims[i].options.front();
  return a;
}

int pick_option(Rng& rng, const std::vector<int>& options) {
  return options[static_cast<std::size_t>(uniform_int(rng, 0, static_cast<int>(options.size()) - 1))];
}

std::string describe_options(const std::vector<int>& options) {
  std::string s;
  for (int v : options) s += (s.empty() ? "" : ", ") + std::to_string(v);
  return "{" + s + "}";
}

}  // namespace hwnas
