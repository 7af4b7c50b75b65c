// ImageFolder: a user's own labelled images in torchvision's layout DIR/<class_name>/*.{jpg,png},
// decoded with libpng / libjpeg-turbo (image_decode.h) and given the standard ImageNet evaluation
// transform.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "evaluators/datasets/image_dataset.h"
#include "evaluators/datasets/image_decode.h"

namespace hwnas {

/// ImageNet channel statistics (torchvision's transforms.Normalize values), RGB order.
inline constexpr float kImageNetMean[3] = {0.485f, 0.456f, 0.406f};
inline constexpr float kImageNetStd[3] = {0.229f, 0.224f, 0.225f};

/// The standard evaluation transform on an 8-bit RGB image (h, w, 3), row-major: resize the
/// shorter side to round(R * 256 / 224) (the other to int(long * S / short), as torchvision's
/// Resize), with stb_image_resize's triangle filter (bilinear with antialiasing when shrinking,
/// as PIL's BILINEAR), centre crop R x R (offsets round((size - R) / 2)), x/255, then
/// (x - mean) / std per channel. dst holds R*R*3 floats (HWC). Throws hwnas::Error if the
/// image is empty or its resized size exceeds kMaxImagePixels (an extreme aspect ratio).
void imagenet_eval_transform(const std::uint8_t* rgb, int w, int h, int resolution, float* dst);

/// Images under DIR/<class>/ with extension .jpg, .jpeg or .png (any case); classes are the
/// subfolder names sorted (label = rank), files sorted within a class. Decoded on load().
class ImageFolder final : public ImageDataset {
 public:
  /// Scans `dir`. Throws hwnas::Error naming `dir` if it is not a folder, holds no class
  /// subfolder, or holds no image.
  ImageFolder(const std::string& dir, int resolution);

  const std::string& id() const override { return id_; }
  std::size_t size() const override { return files_.size(); }
  int num_classes() const override { return static_cast<int>(classes_.size()); }
  FeatureShape image_shape() const override { return {resolution_, resolution_, 3}; }
  int label(std::size_t i) const override;
  /// Decodes image i to RGB (decode_rgb8) and transforms it. Throws hwnas::Error naming the
  /// file if it is not a PNG or JPEG by its content, cannot be decoded or has more than
  /// kMaxImagePixels pixels.
  void load(std::size_t i, float* dst) const override;

  const std::vector<std::string>& classes() const { return classes_; }
  const std::string& path(std::size_t i) const { return files_.at(i); }

 private:
  std::string id_;
  int resolution_ = 0;
  std::vector<std::string> classes_;
  std::vector<std::string> files_;
  std::vector<int> labels_;
};

/// A seeded split of n images into a BN-recalibration part and a held-out evaluation part:
/// seeded_order(n, seed); the first min(recal_count, n / 2) are `recal`, the rest `held_out`.
struct RecalSplit {
  std::vector<std::size_t> recal;
  std::vector<std::size_t> held_out;
};
RecalSplit recal_split(std::size_t n, std::uint64_t seed, std::size_t recal_count);

}  // namespace hwnas
