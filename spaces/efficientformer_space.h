// The EfficientFormer search space (SPACES.md section 1).
#pragma once

#include "spaces/defined_space.h"

namespace hwnas {

/// EfficientFormer (Li et al., NeurIPS 2022) as a slimming search space.
/// Genes, in order: width0..width3 (stage widths, multiples of 16), depth0..depth3,
/// num_vit (MB3D count: the trailing blocks of stage 4, <= depth3), resolution (pixels).
/// Arch JSON uses timm's keyword names: {"space": "efficientformer", "embed_dims": [4 ints],
/// "depths": [4 ints], "num_vit": n, "resolution": r}.
/// Decoding follows timm's EfficientFormer: stem, stage 1 Meta4D blocks, then per stage a
/// downsample and its blocks; stage 4 ends with one flatten and num_vit Meta3D blocks; the head is
/// LayerNorm + mean over tokens + class and distillation classifiers. The flatten is emitted even
/// when num_vit = 0 (timm's head expects tokens; the paper's design is silent on that case).
/// The same decoder serves proxy definitions of the structure (efficientformer-fmnist: smaller
/// widths and depths, one input channel, 10 classes) through `definition_name`.
class EfficientFormerSpace final : public DefinedSpace {
 public:
  /// Throws hwnas::Error if no definition `definition_name` is compiled in or it does not have
  /// this decoder's ten dimensions.
  explicit EfficientFormerSpace(std::string_view definition_name = "efficientformer");

  Arch sample(Rng& rng) const override;
  void repair(Arch& arch) const override;
  Network decode(const Arch& arch) const override;
  void validate(const Arch& arch) const override;
  std::vector<BlockSpec> enumerate_blocks(int resolution) const override;
  Arch largest() const override;
  Arch smallest() const override;
  nlohmann::json to_json(const Arch& arch) const override;
  Arch from_json(const nlohmann::json& j) const override;
  nlohmann::json export_config(const Arch& arch) const override;

  /// Gene positions.
  static constexpr std::size_t kWidth0 = 0, kDepth0 = 4, kNumVit = 8, kResolution = 9;
  static constexpr std::size_t kGenes = 10;

 private:
  void check_resolution(int resolution) const;
};

}  // namespace hwnas
