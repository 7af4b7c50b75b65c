// Weight sharing: a subnet's weights sliced out of a supernet checkpoint (Once-for-All, Cai et
// al. 2020; ElasticViT, Tang et al. 2023): first-k channels, centre k x k of a larger kernel,
// first blocks of each stage.
#pragma once

#include <functional>

#include <cstdint>
#include <string>
#include <vector>

#include "evaluators/io/safetensors.h"
#include "spaces/search_space.h"

namespace hwnas {

/// The subnet of `arch` as a timm-named state dict (what Model::from_weights reads), sliced
/// from `supernet` by the weight-sharing rule of the network's model family (its record's
/// slice_supernet, families/model_family.h). EfficientFormer: stage s keeps the supernet's first
/// depth_s Meta4D blocks (stage 4: depth3 - num_vit), stage 4's trailing Meta3D blocks come from
/// `stages.3.meta3d.0..` in order under the subnet's timm index; every tensor then takes
/// slice_leading(). Hiera (TurboViT-style spaces): slice_hiera (slicing/hiera_slicing.h).
/// ElasticViT: slice_elasticvit (slicing/elasticvit_slicing.h). Throws hwnas::Error naming the
/// space if its family has no slicing rule or the checkpoint's __metadata__ names another space,
/// and naming the supernet tensor that is missing or too small for the subnet.
WeightStore slice_supernet(const SearchSpace& space, const Arch& arch, const WeightStore& supernet);

/// The sub-tensor of shape `shape` of `t`: the first shape[d] entries of each dimension, except
/// that a 4-d tensor (a conv weight (out, in, kh, kw)) takes the centre kh x kw of a larger
/// kernel. Throws hwnas::Error naming `name` if the ranks differ, a dimension is larger than
/// the supernet's, or a kernel's size difference is odd (no centre).
StoredTensor slice_leading(const std::string& name, const StoredTensor& t,
                           const std::vector<std::int64_t>& shape);

/// How one rule cuts a subnet tensor `name` of `shape` out of the supernet's tensor `source`
/// (named `source_name`).
using TensorSlicer =
    std::function<StoredTensor(const std::string& name, const std::string& source_name,
                               const StoredTensor& source, const std::vector<std::int64_t>& shape)>;

/// The walk every slicing rule shares: each tensor Model::from_weights reads for `arch` (names
/// and shapes from the block factories) is `slice` of the supernet tensor `source_of(name)`;
/// the result's metadata names the space and arch. Throws hwnas::Error naming a supernet
/// tensor that is missing (the checkpoint is not the space's union network), and what `slice`
/// throws.
WeightStore slice_each_tensor(const SearchSpace& space, const Arch& arch,
                              const WeightStore& supernet,
                              const std::function<std::string(const std::string&)>& source_of,
                              const TensorSlicer& slice);

/// True if `weights` is a supernet checkpoint (its __metadata__ "format" is "hwnas-supernet-v1").
bool is_supernet_checkpoint(const WeightStore& weights);

}  // namespace hwnas
