// The TurboViT-style search space (SPACES.md section 3): a reconstruction, not the published one.
#pragma once

#include "spaces/defined_space.h"
#include "spaces/hiera_network.h"

namespace hwnas {

/// A Hiera-style hierarchical ViT space after TurboViT (Wong et al., 2023). TurboViT's stage
/// table, code and constraints are unpublished; the choices here are hwnas's (SPACES.md §3) and
/// the decoder is Hiera's (hiera_network). Genes (18), in order: embed_dim; width_mult_s2..s4 in
/// tenths (15 = x1.5, 20 = x2); depth_s1..s4; head_dim_s1..s4; mlp_ratio_s1..s4; mask_unit;
/// resolution. Stage width s = 16 * round-half-up(width(s-1) * mult / 16).
/// Arch JSON: {"space": "turbovit", "embed_dim": 48, "width_mult": [2, 2, 1.5], "depths": [4],
/// "head_dim": [4], "mlp_ratio": [4], "mask_unit": 8, "resolution": 224, "widths": [4],
/// "heads": [4]}; "widths" and "heads" are derived (written by to_json, optional and checked in
/// from_json); width_mult entries are 1.5 or 2.
/// The same decoder serves proxy definitions of the structure (turbovit-fmnist: one input
/// channel, 64x64, 10 classes, smaller choices) through `definition_name`.
class TurboVitSpace final : public DefinedSpace {
 public:
  /// Throws hwnas::Error if no definition `definition_name` is compiled in or it does not have
  /// this decoder's 18 dimensions.
  explicit TurboVitSpace(std::string_view definition_name = "turbovit");

  Arch sample(Rng& rng) const override;
  void repair(Arch& arch) const override;
  Network decode(const Arch& arch) const override;
  void validate(const Arch& arch) const override;
  std::vector<BlockSpec> enumerate_blocks(int resolution) const override;
  Arch largest() const override;
  Arch smallest() const override;
  nlohmann::json to_json(const Arch& arch) const override;
  Arch from_json(const nlohmann::json& j) const override;
  /// {"model": "timm.models.hiera.Hiera-like", "stages": per-stage widths/heads/depths/mlp,
  ///  "mask_unit_size", "q_pool"}: Hiera's own arguments cannot express per-stage multipliers.
  nlohmann::json export_config(const Arch& arch) const override;

  /// The Hiera configuration an arch decodes to (validates the arch).
  HieraConfig hiera_config(const Arch& arch) const;
  /// Stage widths from embed_dim and the three multipliers (tenths).
  static std::vector<int> stage_widths(int embed_dim, int mult2, int mult3, int mult4);

  static constexpr std::size_t kEmbed = 0, kMult = 1, kDepth = 4, kHeadDim = 8, kMlp = 12,
                               kMaskUnit = 16, kResolution = 17, kGenes = 18;
};

}  // namespace hwnas
