// SearchSpace: the interface every search space implements (EfficientFormer, ElasticViT, ...).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/rng.h"
#include "spaces/arch.h"
#include "spaces/network.h"

namespace hwnas {

/// One choice dimension: a name ("width3") and its option values in increasing order.
struct Dim {
  std::string name;
  std::vector<int> options;
};

/// A search space: choices (data, from spaces/defs/<name>.json) plus a decoder (code).
/// Implementations must be thread-safe for const calls: search evaluates in parallel.
class SearchSpace {
 public:
  virtual ~SearchSpace() = default;

  /// Registry name, e.g. "efficientformer".
  virtual const std::string& name() const = 0;
  /// One paragraph for `hwnas spaces` / `describe`: the paper and what is reconstructed.
  virtual const std::string& summary() const = 0;
  /// The choice dimensions; Arch::genes has one value per dimension, in this order.
  virtual const std::vector<Dim>& dims() const = 0;

  /// A uniformly drawn valid arch (uniform over each dimension's options, subject to the
  /// space's constraints).
  virtual Arch sample(Rng& rng) const = 0;
  /// Re-draws each gene with probability `prob` and repairs constraints; always valid.
  virtual Arch mutate(const Arch& arch, Rng& rng, double prob) const;
  /// Uniform crossover of two valid archs, repaired; always valid.
  virtual Arch crossover(const Arch& a, const Arch& b, Rng& rng) const;
  /// Brings an arch whose genes are each legal options back inside the space's joint
  /// constraints (e.g. MB3D count <= stage-4 depth) with the smallest change.
  virtual void repair(Arch& arch) const = 0;

  /// The network of an arch. Throws hwnas::Error if the arch is not valid.
  virtual Network decode(const Arch& arch) const = 0;
  /// Throws hwnas::Error naming the offending field and its legal values.
  virtual void validate(const Arch& arch) const = 0;

  /// Every unique block any arch of the space can produce at input `resolution` (pixels,
  /// square), in a deterministic order: what a complete latency table must hold. Throws
  /// hwnas::Error if the resolution is not allowed by the space.
  virtual std::vector<BlockSpec> enumerate_blocks(int resolution) const = 0;

  /// The published members (name, arch), e.g. EfficientFormer l1/l3/l7.
  virtual const std::vector<std::pair<std::string, Arch>>& named() const = 0;
  /// The largest and smallest arch (every choice at its maximum / minimum).
  virtual Arch largest() const = 0;
  virtual Arch smallest() const = 0;

  /// Readable JSON with the field's names, e.g. for EfficientFormer
  /// {"space":"efficientformer","embed_dims":[48,96,224,448],"depths":[3,2,6,4],"num_vit":1,
  ///  "resolution":224}.
  virtual nlohmann::json to_json(const Arch& arch) const = 0;
  /// Inverse of to_json; strict: unknown or missing keys, wrong types and values outside the
  /// space throw hwnas::Error naming the key.
  virtual Arch from_json(const nlohmann::json& j) const = 0;
  /// Extra decoded configuration for other tools (e.g. timm's EfficientFormer keyword arguments).
  virtual nlohmann::json export_config(const Arch& arch) const { return to_json(arch); }
  /// Space-specific figures beyond Network's counters, as a JSON object (e.g. ElasticViT's
  /// {"reference_mflops": 62.9} in its reference code's convention); empty by default.
  virtual nlohmann::json extra_metrics(const Arch& arch) const { return nlohmann::json::object(); }

  /// Resolves a user's --arch argument: a named member ("l1"), inline JSON ("{...}") or the path
  /// of a JSON file. Throws hwnas::Error naming the argument and the accepted forms.
  Arch resolve(std::string_view spec) const;
  /// Name of a published member equal to `arch`, or "" if none.
  std::string member_name(const Arch& arch) const;
  /// Index of `value` among dims()[dim].options, or -1.
  int option_index(std::size_t dim, int value) const;
};

/// The input resolutions (pixels) the space's archs take: the options of its "resolution"
/// dimension, else {224}.
std::vector<int> space_resolutions(const SearchSpace& space);

/// The resolution a command uses when none is given: 224 if the space allows it, else the
/// space's first resolution (elasticvit-fmnist: 128; efficientformer-fmnist: 64).
int default_resolution(const SearchSpace& space);

}  // namespace hwnas
