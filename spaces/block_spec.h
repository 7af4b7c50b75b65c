// BlockSpec: one block of a network as the engine runs it and the latency table keys it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hwnas {

/// Every block kind compiled into hwnas, generated from block_kind.def (append-only list).
/// Values from kBlockKindCount up are kinds registered at run time
/// (spaces/block_kind_registry.h); every function here accepts both.
enum class BlockKind : std::uint8_t {
#define HWNAS_BLOCK_KIND(family, name, attrs, variant) name,
#include "spaces/block_kind.def"
#undef HWNAS_BLOCK_KIND
};

/// Number of block kinds in block_kind.def.
inline constexpr std::size_t kBlockKindCount = 0
#define HWNAS_BLOCK_KIND(family, name, attrs, variant) +1
#include "spaces/block_kind.def"
#undef HWNAS_BLOCK_KIND
    ;

/// Stable snake_case name of a kind, as stored in keys ("meta4d").
std::string_view block_kind_name(BlockKind kind);
/// Kind from its name. Throws hwnas::Error naming the unknown kind and listing the known ones.
BlockKind block_kind_from_name(std::string_view name);
/// The model family a kind belongs to ("efficientformer", "elasticvit", "hiera", or a
/// registered kind's family): the key of its record in evaluators/families/model_family.h.
std::string_view block_kind_family(BlockKind kind);
/// Attribute names of a kind, in canonical key order (e.g. {"c","h","w","pool","mlp"}).
const std::vector<std::string_view>& block_attr_names(BlockKind kind);
/// The kind's variant attributes (block_kind.def), in key order: those that switch operations
/// on or off rather than size them ({"stride","se"} for evit_mbconv; empty for most kinds).
const std::vector<std::string_view>& block_variant_attrs(BlockKind kind);

/// One block: a kind and its integer attributes in the kind's canonical order.
/// All attributes are positive integers (channels, H, W in pixels or tokens, heads, ...).
struct BlockSpec {
  BlockKind kind{};
  std::vector<int> attrs;

  /// Builds a spec, checking the attribute count against the kind. Throws hwnas::Error.
  static BlockSpec make(BlockKind kind, std::vector<int> attrs);
  /// Parses a canonical key such as "meta4d:c=48,h=56,w=56,pool=3,mlp=4".
  /// Throws hwnas::Error on an unknown kind, a missing/unknown/duplicate attribute or a bad value.
  static BlockSpec parse(std::string_view key);

  /// Canonical key: "<kind>:<attr>=<value>,..." in canonical attribute order; parse(key()) ==
  /// *this.
  std::string key() const;
  /// Value of a named attribute. Throws hwnas::Error if the kind has no such attribute.
  int get(std::string_view attr) const;

  bool operator==(const BlockSpec&) const = default;
};

/// The block's variant: its kind and the values of the kind's variant attributes, as a key
/// ("evit_mbconv:stride=2,se=1"; the kind's name alone when it has none). Blocks of one variant
/// run the same operations and differ only in their sizes. Throws what BlockSpec::get throws.
std::string block_variant(const BlockSpec& spec);

/// Hash of a BlockSpec consistent with operator== (for lookups without building key strings).
struct BlockSpecHash {
  std::size_t operator()(const BlockSpec& spec) const noexcept;
};

/// Activation shape at a block boundary, NHWC without the batch: tokens use h x w as the grid.
struct FeatureShape {
  int h = 0;
  int w = 0;
  int c = 0;
  bool operator==(const FeatureShape&) const = default;
};

/// What a block costs, computed from its spec alone.
/// params: learnable parameters (conv/linear weights and biases, norm affine, layer scales,
/// attention-bias tables; BN running statistics are buffers and not counted, as in PyTorch).
/// macs: multiply-accumulates of convolutions, linear layers and the two attention matmuls
/// (QK^T and AV), batch 1. Norms, activations, pooling, softmax and adds are not counted.
struct BlockCost {
  std::int64_t params = 0;
  std::int64_t macs = 0;
};

/// Input shape, output shape and cost of a block (batch 1). Throws hwnas::Error if the
/// attributes are inconsistent (e.g. a zero channel count).
FeatureShape block_input_shape(const BlockSpec& spec);
FeatureShape block_output_shape(const BlockSpec& spec);
BlockCost block_cost(const BlockSpec& spec);

/// True for a kind that opens its networks and reads the image passed to the forward (stem,
/// evit_first_conv, hiera_patch_embed; a registered kind says so in its BlockKindDef). Every
/// other block reads what the block before it has just written, so its input is in cache; a
/// network's image was written before the forward, and in a network larger than the cache the
/// previous forward has evicted it. The cold-weights table rows time such a block on a cold input
/// (profilers/block_timing.h). Throws hwnas::Error for a value that is neither a kind of
/// block_kind.def nor a registered kind.
bool block_reads_network_input(BlockKind kind);

}  // namespace hwnas
