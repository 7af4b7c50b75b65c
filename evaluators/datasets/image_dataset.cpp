#include "evaluators/datasets/image_dataset.h"

#include "core/error.h"

namespace hwnas {

Tensor load_batch(const ImageDataset& set, const std::vector<std::size_t>& indices,
                  std::size_t begin, std::size_t end) {
  if (begin > end || end > indices.size())
    throw Error("load_batch on '" + set.id() + "': range [" + std::to_string(begin) + ", " +
                std::to_string(end) + ") outside the " + std::to_string(indices.size()) +
                " indices");
  const FeatureShape s = set.image_shape();
  Tensor batch(static_cast<int>(end - begin), s.h, s.w, s.c);
  const std::size_t per_image = static_cast<std::size_t>(s.h) * s.w * s.c;
  for (std::size_t i = begin; i < end; ++i)
    set.load(indices[i], batch.data() + (i - begin) * per_image);
  return batch;
}

}  // namespace hwnas
