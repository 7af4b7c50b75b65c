// Fashion-MNIST (Xiao et al. 2017) from Debian's dataset-fashion-mnist package (IDX files), with
// the preprocessing and seeded splits of hwnas's Fashion-MNIST supernet contract.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "evaluators/datasets/image_dataset.h"

namespace hwnas {

/// Where Debian's dataset-fashion-mnist package installs the four IDX files.
inline constexpr const char* kFashionMnistDefaultDir = "/usr/share/datasets/fashion-mnist";

/// The Fashion-MNIST directory: `dir` if not empty, else $HWNAS_FASHION_MNIST if set, else
/// kFashionMnistDefaultDir. Throws hwnas::Error naming the directory and the fix (`apt-get
/// install dataset-fashion-mnist` or --dataset DIR) if its train-images-idx3-ubyte.gz is absent.
std::string locate_fashion_mnist(const std::string& dir = "");

/// The nearest-upsample factor of the contracts' Fashion-MNIST input at `resolution`: 2 for 64
/// (efficientformer-fmnist) and 4 for 128 (elasticvit-fmnist), i.e. 32x32 padded images scaled
/// to the space's resolution. Throws hwnas::Error for any other resolution (Fashion-MNIST has
/// no defined preprocessing there).
int fashion_mnist_upsample(int resolution);

/// The resolution part of a Fashion-MNIST dataset id: "" at 64 (the ids of BN-statistics caches
/// made before other resolutions existed stay valid), "@<resolution>" otherwise.
std::string fashion_mnist_resolution_tag(int resolution);

/// Contract preprocessing of one 28x28 uint8 image into (32f)x(32f)x1 floats: zero-pad 2 pixels
/// on each side (32x32), f-fold nearest upsample (each pixel an f x f block), x/255, then
/// (x - 0.2860) / 0.3530. dst holds (32f)^2 floats (HWC with c = 1); f = 2 gives the 64x64 input
/// of FMNIST-SPEC, f = 4 the 128x128 input of EVIT-FMNIST-SPEC.
void preprocess_fashion_mnist(const std::uint8_t* image28, float* dst, int upsample = 2);

/// One half of Fashion-MNIST ("train": 60,000 images, "test": the 10,000 t10k images), held
/// in memory as uint8 and preprocessed by load(). 10 classes, images (r, r, 1).
class FashionMnist final : public ImageDataset {
 public:
  /// Reads <dir>/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz; load() preprocesses to
  /// `resolution` (64 or 128, fashion_mnist_upsample). Throws hwnas::Error naming the file for
  /// IDX errors (see read_idx), images that are not N x 28 x 28, labels that are not N values
  /// in 0..9, image and label counts that differ, or an unsupported resolution.
  FashionMnist(const std::string& dir, bool train, int resolution = 64);

  const std::string& id() const override { return id_; }
  std::size_t size() const override { return labels_.size(); }
  int num_classes() const override { return 10; }
  FeatureShape image_shape() const override { return {32 * upsample_, 32 * upsample_, 1}; }
  int label(std::size_t i) const override;
  void load(std::size_t i, float* dst) const override;
  /// The raw 28x28 bytes of image i (for tests of the preprocessing).
  const std::uint8_t* raw(std::size_t i) const;

 private:
  std::string id_;
  int upsample_ = 2;
  std::vector<std::uint8_t> images_;
  std::vector<std::uint8_t> labels_;
};

/// The contract's split of the 60,000 training images: seeded_order(60000, seed); its first
/// 5,000 indices are `val` (held out of training and BN recalibration), the remaining 55,000
/// `train` in key order (BN recalibration uses train's first 512). Throws hwnas::Error if
/// n_train <= val_count.
struct FashionMnistSplit {
  std::vector<std::size_t> val;
  std::vector<std::size_t> train;
};
FashionMnistSplit fashion_mnist_split(std::uint64_t seed, std::size_t n_train = 60000,
                                      std::size_t val_count = 5000);

}  // namespace hwnas
