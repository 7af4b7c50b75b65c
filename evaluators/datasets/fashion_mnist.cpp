#include "evaluators/datasets/fashion_mnist.h"

#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "evaluators/datasets/idx_reader.h"
#include "evaluators/datasets/seeded_split.h"

namespace hwnas {

std::string locate_fashion_mnist(const std::string& dir) {
  std::string d = dir;
  std::string from = "--dataset";
  if (d.empty()) {
    const char* env = std::getenv("HWNAS_FASHION_MNIST");
    if (env && *env) {
      d = env;
      from = "HWNAS_FASHION_MNIST";
    } else {
      d = kFashionMnistDefaultDir;
      from = "the default";
    }
  }
  if (!std::filesystem::exists(std::filesystem::path(d) / "train-images-idx3-ubyte.gz"))
    throw Error("Fashion-MNIST not found in '" + d + "' (" + from +
                "): run `apt-get install dataset-fashion-mnist`, or point --dataset DIR or "
                "HWNAS_FASHION_MNIST at a folder holding the four *-ubyte.gz IDX files");
  return d;
}

int fashion_mnist_upsample(int resolution) {
  if (resolution == 64) return 2;
  if (resolution == 128) return 4;
  throw Error("Fashion-MNIST is defined at 64x64 (2x upsample, efficientformer-fmnist) and " +
              std::string("128x128 (4x, elasticvit-fmnist) only, not at ") +
              std::to_string(resolution) +
              ": use a Fashion-MNIST space, or an ImageFolder --dataset DIR for other resolutions");
}

std::string fashion_mnist_resolution_tag(int resolution) {
  if (resolution == 64) return {};
  std::string tag = "@";
  tag += std::to_string(resolution);
  return tag;
}

void preprocess_fashion_mnist(const std::uint8_t* image28, float* dst, int upsample) {
  constexpr float kMean = 0.2860f, kStd = 0.3530f;
  const float zero = (0.0f - kMean) / kStd;
  const int side = 32 * upsample;
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x) {
      const int sy = y / upsample - 2, sx = x / upsample - 2;  // side -> 32 (nearest) -> 28 (pad 2)
      const bool inside = sy >= 0 && sy < 28 && sx >= 0 && sx < 28;
      dst[y * side + x] =
          inside ? (static_cast<float>(image28[sy * 28 + sx]) / 255.0f - kMean) / kStd : zero;
    }
}

FashionMnist::FashionMnist(const std::string& dir, bool train, int resolution)
    : upsample_(fashion_mnist_upsample(resolution)) {
  const std::string prefix = dir + "/" + (train ? "train" : "t10k");
  id_ = std::string("fashion-mnist:") + (train ? "train" : "test") +
        fashion_mnist_resolution_tag(resolution);
  const std::string image_path = prefix + "-images-idx3-ubyte.gz";
  const std::string label_path = prefix + "-labels-idx1-ubyte.gz";
  IdxArray images = read_idx(image_path);
  IdxArray labels = read_idx(label_path);
  if (images.dims.size() != 3 || images.dims[1] != 28 || images.dims[2] != 28)
    throw Error("IDX file '" + image_path + "' must hold N x 28 x 28 images");
  if (labels.dims.size() != 1 || labels.dims[0] != images.dims[0])
    throw Error("IDX file '" + label_path + "' must hold one label per image of '" + image_path +
                "' (" + std::to_string(images.dims[0]) + ")");
  for (std::uint8_t l : labels.data)
    if (l > 9) throw Error("IDX file '" + label_path + "' has a label outside 0..9");
  images_ = std::move(images.data);
  labels_ = std::move(labels.data);
}

int FashionMnist::label(std::size_t i) const {
  if (i >= labels_.size())
    throw Error(id_ + ": image index " + std::to_string(i) + " out of range");
  return labels_[i];
}

const std::uint8_t* FashionMnist::raw(std::size_t i) const {
  if (i >= labels_.size())
    throw Error(id_ + ": image index " + std::to_string(i) + " out of range");
  return images_.data() + i * 28 * 28;
}

void FashionMnist::load(std::size_t i, float* dst) const {
  preprocess_fashion_mnist(raw(i), dst, upsample_);
}

FashionMnistSplit fashion_mnist_split(std::uint64_t seed, std::size_t n_train,
                                      std::size_t val_count) {
  if (n_train <= val_count)
    throw Error("Fashion-MNIST split: " + std::to_string(n_train) +
                " training images cannot hold a validation split of " + std::to_string(val_count));
  const std::vector<std::size_t> order = seeded_order(n_train, seed);
  FashionMnistSplit s;
  s.val.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(val_count));
  s.train.assign(order.begin() + static_cast<std::ptrdiff_t>(val_count), order.end());
  return s;
}

}  // namespace hwnas
