// A random-weight supernet checkpoint of efficientformer-fmnist in the contract's layout, for
// slicing, recalibration and `hwnas eval` tests that must not depend on a trained file.
#pragma once

#include <cstdint>

#include "evaluators/safetensors.h"

namespace hwnas::test {

/// The union network of efficientformer-fmnist with random weights (Model::random_weights):
/// the widest, deepest all-Meta4D network plus two Meta3D blocks under stages.3.meta3d.{0,1}.,
/// metadata format hwnas-supernet-v1.
WeightStore random_fmnist_supernet(std::uint64_t seed);

/// The union network of elasticvit-fmnist (its member `l`: 5x5 kernels, expand 6, MLP ratio 4,
/// v_scale 4, the largest widths and depths) with random weights under the official code's
/// names, metadata format hwnas-supernet-v1.
WeightStore random_elasticvit_fmnist_supernet(std::uint64_t seed);

}  // namespace hwnas::test
