// Block kinds added at run time by a model family that is not compiled into hwnas: a plugin, or
// the toy family of tests/families. The kinds of block_kind.def keep their compile-time tables
// (a switch with no `default:` in each place); a registered kind takes the next free BlockKind
// value after them and brings its shapes and cost as functions, which block_spec.cpp calls
// before its switches. A registered kind is stored in latency tables by its name like any
// other, so a table written with it is read back only where the same kind is registered.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "spaces/block_spec.h"

namespace hwnas {

/// What spaces/ must know about a block kind: its name and attributes (the table key), and its
/// shapes and cost (batch 1). The functions receive a BlockSpec of this kind whose attribute
/// count has been checked, and throw hwnas::Error for inconsistent attributes.
struct BlockKindDef {
  std::string name;                ///< snake_case, unique; stored in table keys ("toy_conv")
  std::string family;              ///< the model family that builds it (block_kind_family)
  std::vector<std::string> attrs;  ///< attribute names in key order ("cin","c","h","w")
  std::function<FeatureShape(const BlockSpec&)> input_shape;   ///< NHWC without the batch
  std::function<FeatureShape(const BlockSpec&)> output_shape;  ///< NHWC without the batch
  std::function<BlockCost(const BlockSpec&)> cost;             ///< params and MACs (batch 1)
  bool reads_network_input = false;  ///< opens its networks (block_reads_network_input)
  /// The attributes of `attrs` that switch operations on or off (block_variant_attrs), in key
  /// order; empty for most kinds.
  std::vector<std::string> variant_attrs = {};
};

/// Adds a block kind and returns its BlockKind value (kBlockKindCount and up, in order of
/// registration). Thread-safe. Throws hwnas::Error if the name or family is empty or already taken
/// (by a built-in or a registered kind), an attribute name repeats, a variant attribute is not
/// one of the attributes, repeats or is out of key order, a function is missing, or all 256
/// BlockKind values are used.
BlockKind register_block_kind(BlockKindDef def);

/// True if `kind` was added by register_block_kind (false for the kinds of block_kind.def).
bool is_registered_block_kind(BlockKind kind);

/// The definition of a registered kind; the reference stays valid for the process's life.
/// Throws hwnas::Error if `kind` is neither built in nor registered.
const BlockKindDef& registered_block_kind(BlockKind kind);

/// The attribute names of a registered kind as block_attr_names gives them (views into the
/// definition's strings). Throws like registered_block_kind.
const std::vector<std::string_view>& registered_block_attr_names(BlockKind kind);
/// Its variant attributes as block_variant_attrs gives them. Throws like registered_block_kind.
const std::vector<std::string_view>& registered_block_variant_attrs(BlockKind kind);

/// The registered kind named `name`, if any.
bool find_registered_block_kind(std::string_view name, BlockKind* kind);

/// Names of the registered kinds, in order of registration (for error messages).
std::vector<std::string> registered_block_kind_names();

}  // namespace hwnas
