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

/// Contract preprocessing of one 28x28 uint8 image into 64x64x1 floats: zero-pad 2 pixels on
/// each side (32x32), 2x nearest upsample (each pixel a 2x2 block), x/255, then
/// (x - 0.2860) / 0.3530. dst holds 64*64 floats (HWC with c = 1).
void preprocess_fashion_mnist(const std::uint8_t* image28, float* dst);

/// One half of Fashion-MNIST ("train": 60,000 images, "test": the 10,000 t10k images), held
/// in memory as uint8 and preprocessed by load(). 10 classes, images (64, 64, 1).
class FashionMnist final : public ImageDataset {
 public:
  /// Reads <dir>/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz. Throws hwnas::Error naming the
  /// file for IDX errors (see read_idx), images that are not N x 28 x 28, labels that are not N
  /// values in 0..9, or image and label counts that differ.
  FashionMnist(const std::string& dir, bool train);

  const std::string& id() const override { return id_; }
  std::size_t size() const override { return labels_.size(); }
  int num_classes() const override { return 10; }
  FeatureShape image_shape() const override { return {64, 64, 1}; }
  int label(std::size_t i) const override;
  void load(std::size_t i, float* dst) const override;
  /// The raw 28x28 bytes of image i (for tests of the preprocessing).
  const std::uint8_t* raw(std::size_t i) const;

 private:
  std::string id_;
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
