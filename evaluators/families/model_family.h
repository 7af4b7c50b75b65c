// ModelFamily: everything the engine needs to know about one family of networks (EfficientFormer,
// ElasticViT, Hiera/TurboViT, or one registered at run time), in one record looked up by name.
// A network's family is the family of its blocks (block_kind_family); the engine, the
// parameter names, supernet slicing and BatchNorm recalibration all go through it, so there is
// no first-block test or table keyed by space names anywhere else. The ONNX lowering of a
// family is the results layer's half of the same record (results/model_family_registration.h).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "evaluators/engine/block.h"
#include "evaluators/engine/param_reader.h"
#include "evaluators/io/safetensors.h"
#include "spaces/network.h"
#include "spaces/search_space.h"

namespace hwnas {

struct ModelFamily {
  /// The family's name, as block_kind_family gives it for each of its kinds ("efficientformer").
  std::string name;
  /// Engine block of one of the family's kinds; the contract of make_block (engine/block.h).
  /// BatchNorm recalibration needs no hook of its own: a factory that reads each BN through
  /// read_conv_bn / read_linear_bn (param_reader.h) makes it recalibratable.
  std::function<std::unique_ptr<Block>(const BlockSpec&, ParamReader&)> make_block;
  /// The parameter-name prefix of every block of a network of this family, under its reference
  /// code's names (timm's "stages.1.blocks.0."); one per block, "" allowed.
  std::function<std::vector<std::string>(const Network&)> param_prefixes;
  /// The subnet of `arch` sliced out of a supernet checkpoint (slicing/supernet_slicing.h);
  /// empty when the family has no weight-sharing supernet.
  std::function<WeightStore(const SearchSpace&, const Arch&, const WeightStore&)> slice_supernet;
};

/// Adds a family. Thread-safe. Throws hwnas::Error if the name is empty or taken, or
/// make_block or param_prefixes is missing.
void register_model_family(ModelFamily family);

/// The family named `name`: a built-in one (efficientformer, elasticvit, hiera) or a
/// registered one. Throws hwnas::Error naming it and listing the known families.
const ModelFamily& model_family(std::string_view name);

/// The family of `net`: that of its blocks. Throws hwnas::Error if the network has no blocks,
/// mixes families (naming the first block of another one), or its family is unknown.
const ModelFamily& family_of(const Network& net);

/// Names of every family, built-in first, then registered in order.
std::vector<std::string> model_family_names();

/// The parameter-name prefix of every block of `net`: family_of(net).param_prefixes(net).
/// Throws hwnas::Error if the family gives a different number of prefixes than blocks.
std::vector<std::string> param_prefixes(const Network& net);

}  // namespace hwnas
