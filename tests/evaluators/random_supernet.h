// A random-weight supernet checkpoint of efficientformer-fmnist in the contract's layout, for
// slicing, recalibration and `hwnas eval` tests that must not depend on a trained file.
#pragma once

#include <cstdint>
#include <string>

#include "evaluators/io/safetensors.h"

namespace hwnas::test {

/// The union network of efficientformer-fmnist with random weights (Model::random_weights):
/// the widest, deepest all-Meta4D network plus two Meta3D blocks under stages.3.meta3d.{0,1}.,
/// metadata format hwnas-supernet-v1.
WeightStore random_fmnist_supernet(std::uint64_t seed);

/// The union network of a weight-sharing space (its largest arch, the names the engine's blocks
/// read: timm's for EfficientFormer and Hiera, the official code's for ElasticViT) with random
/// weights, metadata space and format hwnas-supernet-v1.
WeightStore random_union_supernet(const std::string& space, std::uint64_t seed);

}  // namespace hwnas::test
