// EfficientFormer's weight-sharing rule (efficientformer, efficientformer-fmnist): the supernet
// is the largest member with its Meta3D blocks named "stages.3.meta3d.j."; a subnet takes the
// first depth_s Meta4D blocks of each stage, the first Meta3D blocks, and the leading channels of
// every tensor (slice_leading).
#pragma once

#include "evaluators/engine/model.h"
#include "spaces/search_space.h"

namespace hwnas {

/// The subnet `arch` of `space` cut from `supernet`: a Meta3D block at timm index
/// "stages.3.blocks.k." reads the supernet's "stages.3.meta3d.j." (its j-th Meta3D block); every
/// other tensor keeps its name; each takes slice_leading() of the supernet's. Throws
/// hwnas::Error naming a missing or too small supernet tensor.
WeightStore slice_efficientformer(const SearchSpace& space, const Arch& arch,
                                  const WeightStore& supernet);

}  // namespace hwnas
