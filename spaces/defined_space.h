// The part every hwnas search space shares: it is described by an embedded JSON definition
// (spaces/defs/<name>.json) whose dimensions are the genes and whose named members are archs.
// Each decoder (EfficientFormer, ElasticViT, TurboViT) derives from it and adds its structure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "spaces/search_space.h"
#include "spaces/space_def.h"

namespace hwnas {

class DefinedSpace : public SearchSpace {
 public:
  const std::string& name() const override { return def_.name; }
  const std::string& summary() const override { return def_.summary; }
  const std::vector<Dim>& dims() const override { return def_.dims; }
  const std::vector<std::pair<std::string, Arch>>& named() const override { return named_; }
  /// The embedded definition this space was built from.
  const SpaceDef& definition() const { return def_; }

 protected:
  /// Loads embedded definition `definition_name`. Throws hwnas::Error if none is compiled in
  /// or it does not have `genes` dimensions (the message names `decoder`, e.g. "ElasticViT").
  DefinedSpace(std::string_view definition_name, std::size_t genes, std::string_view decoder);
  /// Parses the definition's named members with from_json. Call it from the derived
  /// constructor's body, where from_json is the derived decoder's.
  void load_named();
  /// Throws hwnas::Error if `a` belongs to another space, has the wrong number of genes, or a
  /// gene (other than dimension `skip`, checked by the caller) is not one of its options; the
  /// message names the dimension and lists the legal options.
  void check_genes(const Arch& a, std::size_t skip = static_cast<std::size_t>(-1)) const;
  /// The arch with every gene at its dimension's last (largest) or first option, unrepaired.
  Arch at_last_options() const;
  Arch at_first_options() const;

  SpaceDef def_;
  std::vector<std::pair<std::string, Arch>> named_;
};

/// One of `options`, uniformly.
int pick_option(Rng& rng, const std::vector<int>& options);
/// The legal choices for an error message: "16..512 in steps of 16" for a long evenly spaced
/// list, else "{a, b, c}".
std::string describe_options(const std::vector<int>& options);

}  // namespace hwnas
