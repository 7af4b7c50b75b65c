#include "spaces/defined_space.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

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

void DefinedSpace::check_genes(const Arch& a, std::size_t skip) const {
  if (a.space != def_.name)
    throw Error("arch belongs to space '" + a.space + "', not '" + def_.name + "'");
  if (a.genes.size() != def_.dims.size())
    throw Error(def_.name + " arch needs " + std::to_string(def_.dims.size()) + " genes, got " +
                std::to_string(a.genes.size()));
  for (std::size_t i = 0; i < a.genes.size(); ++i)
    if (i != skip && option_index(i, a.genes[i]) < 0)
      throw Error(def_.name + ": " + def_.dims[i].name + " = " + std::to_string(a.genes[i]) +
                  " is outside the space; choose from " + describe_options(def_.dims[i].options));
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
  return options[static_cast<std::size_t>(
      uniform_int(rng, 0, static_cast<int>(options.size()) - 1))];
}

std::string describe_options(const std::vector<int>& options) {
  bool even = options.size() > 4;
  for (std::size_t i = 2; even && i < options.size(); ++i)
    even = options[i] - options[i - 1] == options[1] - options[0];
  if (even)
    return std::to_string(options.front()) + ".." + std::to_string(options.back()) +
           " in steps of " + std::to_string(options[1] - options[0]);
  std::string s;
  for (int v : options) s += (s.empty() ? "" : ", ") + std::to_string(v);
  return "{" + s + "}";
}

}  // namespace hwnas
