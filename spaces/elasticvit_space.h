// The ElasticViT search space (SPACES.md section 2).
#pragma once

#include <array>

#include "spaces/defined_space.h"

namespace hwnas {

/// An ElasticViT subnet as plain per-stage values (no validation), in the order of the code's
/// arch list: stages are [stem, C1, C2, T1, T2, T3, T4]. Used for FLOPs what-ifs (the
/// performance-aware sampler swaps T-stage widths or depths, which may break the width order).
struct ElasticVitConfig {
  int resolution = 0;              ///< input side in pixels
  std::array<int, 7> widths{};     ///< channels per stage; the first conv has widths[0]
  std::array<int, 7> depths{};     ///< blocks per stage
  std::array<int, 3> kernel{};     ///< depthwise kernel of stem, C1, C2
  std::array<int, 2> expand{};     ///< MBConv expansion of C1, C2 (stem: 1)
  std::array<int, 4> mlp_ratio{};  ///< FFN ratio of T1..T4
  std::array<int, 4> v_scale{};    ///< V-scale of T1..T4 (v dim per head = 16 * v_scale)

  bool operator==(const ElasticVitConfig&) const = default;
};

/// ElasticViT (Tang et al., ICCV 2023), from microsoft/Moonlit ElasticViT.
/// Genes (28), in order: resolution; width_stem, width_c1, width_c2, width_t1..width_t4;
/// depth_stem .. depth_t4; kernel_stem, kernel_c1, kernel_c2; expand_c1, expand_c2;
/// mlp_ratio_t1..t4; v_scale_t1..t4 (see spaces/defs/elasticvit.json for the options).
/// Arch JSON: {"space": "elasticvit", "resolution": r, "widths": [7], "depths": [7],
/// "kernel": [3], "expand": [2], "mlp_ratio": [4], "v_scale": [4], "heads": [4]} where "heads"
/// (T-stage width / 16) is derived: written by to_json, optional in from_json and checked.
/// Decoding: evit_first_conv, stem evit_mbconv blocks (expand 1), C1/C2 evit_mbconv blocks,
/// per T stage an entry evit_mbconv (expand 6, k 3, SE, stride 2; 1 in T2) then depth x
/// (evit_attention, evit_ffn), then evit_head (golden/elasticvit_blocks.md).
/// The same decoder serves proxy definitions of the structure (elasticvit-fmnist: smaller
/// widths and depths, one input channel, 10 classes, a 256-wide head) through
/// `definition_name`; in_channels, head_feat and num_classes come from the definition's "fixed".
class ElasticVitSpace final : public DefinedSpace {
 public:
  /// Throws hwnas::Error if no definition `definition_name` is compiled in or it does not have
  /// this decoder's 28 dimensions.
  explicit ElasticVitSpace(std::string_view definition_name = "elasticvit");

  Arch sample(Rng& rng) const override;
  void repair(Arch& arch) const override;
  Network decode(const Arch& arch) const override;
  void validate(const Arch& arch) const override;
  std::vector<BlockSpec> enumerate_blocks(int resolution) const override;
  Arch largest() const override;
  Arch smallest() const override;
  nlohmann::json to_json(const Arch& arch) const override;
  Arch from_json(const nlohmann::json& j) const override;
  /// {"model": ..., "arch_list": the code's set_arch() argument list}, e.g. for t1
  /// [128, [16,24,32,64,96,176,272], [1,2,3,1,1,1,1], [1,3,3,3,3,3], [3,3,3,3,3,3], [2,2,3,4],
  ///  [4,6,11,17], [1,1,1,1], [1,1,1,1], [2,2,2,2]] (per-layer lists, stem first).
  nlohmann::json export_config(const Arch& arch) const override;
  /// {"reference_mflops": reference_mflops(arch)}.
  nlohmann::json extra_metrics(const Arch& arch) const override;

  /// MFLOPs in the reference code's convention (FusedSuperNet.compute_flops: MACs counted once,
  /// /1e6; SPACES.md "FLOPs convention of the reference code"). Validates the arch.
  double reference_mflops(const Arch& arch) const;
  /// The same count for any config (no validation; used for what-if configs). The defaults
  /// are the `elasticvit` definition's fixed values (3 input channels, head 1984 -> 1000).
  static double reference_mflops(const ElasticVitConfig& config, int in_channels = 3,
                                 int head_feat = 1984, int num_classes = 1000);

  /// Genes <-> config. config() does not validate; arch() validates.
  static ElasticVitConfig config(const Arch& arch);
  Arch arch(const ElasticVitConfig& config) const;

  static constexpr std::size_t kResolution = 0, kWidth = 1, kDepth = 8, kKernel = 15, kExpand = 18,
                               kMlp = 20, kVScale = 24, kGenes = 28;
  static constexpr const char* kStageNames[7] = {"stem", "C1", "C2", "T1", "T2", "T3", "T4"};
};

}  // namespace hwnas
