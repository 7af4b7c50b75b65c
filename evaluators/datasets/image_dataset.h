// ImageDataset: labelled images, preprocessed on demand into the engine's NHWC float layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "evaluators/engine/tensor.h"
#include "spaces/block_spec.h"

namespace hwnas {

/// A labelled image set whose images come out preprocessed for a network (normalised floats,
/// HWC). Implementations keep load() thread-safe: evaluation calls it from TBB workers.
class ImageDataset {
 public:
  virtual ~ImageDataset() = default;
  /// Where the images come from, for messages and cache keys (e.g. "fashion-mnist:test").
  virtual const std::string& id() const = 0;
  virtual std::size_t size() const = 0;
  virtual int num_classes() const = 0;
  /// Shape of one preprocessed image (h, w, c).
  virtual FeatureShape image_shape() const = 0;
  /// Label of image i in [0, num_classes()). Throws hwnas::Error if i >= size().
  virtual int label(std::size_t i) const = 0;
  /// Writes image i preprocessed, h*w*c floats in HWC order, to dst. Throws hwnas::Error if
  /// i >= size() or the image cannot be read (the message names the file).
  virtual void load(std::size_t i, float* dst) const = 0;
};

/// The images indices[begin, end) of `set` as one NHWC batch (end - begin, h, w, c).
/// Throws hwnas::Error as ImageDataset::load, or if begin > end or end > indices.size().
Tensor load_batch(const ImageDataset& set, const std::vector<std::size_t>& indices,
                  std::size_t begin, std::size_t end);

}  // namespace hwnas
