#include "evaluators/slicing/supernet_slicing.h"

#include <functional>
#include <utility>

#include "core/error.h"
#include "evaluators/engine/model.h"
#include "evaluators/families/model_family.h"

namespace hwnas {

StoredTensor slice_leading(const std::string& name, const StoredTensor& t,
                           const std::vector<std::int64_t>& shape) {
  if (t.shape.size() != shape.size())
    throw Error("supernet tensor '" + name + "' has shape " + shape_string(t.shape) +
                ", the subnet needs rank " + std::to_string(shape.size()) + " " +
                shape_string(shape));
  const std::size_t rank = shape.size();
  std::vector<std::int64_t> offset(rank, 0);
  for (std::size_t d = 0; d < rank; ++d) {
    const std::int64_t extra = t.shape[d] - shape[d];
    if (extra < 0)
      throw Error("supernet tensor '" + name + "' has shape " + shape_string(t.shape) +
                  ", smaller than the subnet's " + shape_string(shape));
    if (rank == 4 && d >= 2) {
      if (extra % 2)
        throw Error("supernet tensor '" + name + "': kernel " + shape_string(t.shape) +
                    " has no centre " + shape_string(shape));
      offset[d] = extra / 2;
    }
  }
  StoredTensor out;
  out.shape = shape;
  std::int64_t count = 1;
  for (auto s : shape) count *= s;
  out.data.resize(static_cast<std::size_t>(count));
  // Row-major walk over the subnet's indices; the source index adds the offsets.
  std::vector<std::int64_t> idx(rank, 0);
  for (std::int64_t i = 0; i < count; ++i) {
    std::int64_t src = 0;
    for (std::size_t d = 0; d < rank; ++d) src = src * t.shape[d] + idx[d] + offset[d];
    out.data[static_cast<std::size_t>(i)] = t.data[static_cast<std::size_t>(src)];
    for (std::size_t d = rank; d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

WeightStore slice_each_tensor(const SearchSpace& space, const Arch& arch,
                              const WeightStore& supernet,
                              const std::function<std::string(const std::string&)>& source_of,
                              const TensorSlicer& slice) {
  // The block factories are the one list of a subnet's tensor names and shapes: a random
  // reader records exactly what Model::from_weights will ask for.
  const WeightStore wanted = Model::random_weights(space.decode(arch), 0);
  WeightStore sub;
  sub.metadata["space"] = space.name();
  sub.metadata["arch"] = space.to_json(arch).dump();
  for (const auto& [name, t] : wanted.tensors) {
    const std::string source = source_of(name);
    if (!supernet.contains(source))
      throw Error("supernet has no tensor '" + source + "' (needed for the subnet's '" + name +
                  "'): the checkpoint does not hold the union network of space '" + space.name() +
                  "'");
    sub.tensors[name] = slice(name, source, supernet.at(source), t.shape);
  }
  return sub;
}

WeightStore slice_supernet(const SearchSpace& space, const Arch& arch,
                           const WeightStore& supernet) {
  space.validate(arch);
  const ModelFamily& family = family_of(space.decode(arch));
  if (!family.slice_supernet)
    throw Error("space '" + space.name() + "' (model family " + family.name +
                ") has no supernet slicing rule: its family record sets no slice_supernet");
  const auto of = supernet.metadata.find("space");
  if (of != supernet.metadata.end() && of->second != space.name())
    throw Error("the supernet checkpoint was trained for space '" + of->second + "', not '" +
                space.name() + "': pass --space " + of->second);
  return family.slice_supernet(space, arch, supernet);
}

bool is_supernet_checkpoint(const WeightStore& weights) {
  const auto it = weights.metadata.find("format");
  return it != weights.metadata.end() && it->second == "hwnas-supernet-v1";
}

}  // namespace hwnas
