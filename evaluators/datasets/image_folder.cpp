#include "evaluators/datasets/image_folder.h"

// stb_image_resize checks that each output pixel's filter weights sum to 0.9..1.1 and then
// normalises them; float rounding breaks that check for ordinary size pairs (54x244 to 37x167),
// and Debian's libstb is built with assert() enabled, so such an image aborted hwnas. The
// resizer is therefore compiled here, private to this file, without its assertions.
#define STBIR_ASSERT(x) ((void)0)
#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb_image_resize.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "evaluators/datasets/seeded_split.h"

namespace hwnas {

namespace fs = std::filesystem;

void imagenet_eval_transform(const std::uint8_t* rgb, int w, int h, int resolution, float* dst) {
  if (w < 1 || h < 1 || resolution < 1) throw Error("image transform: empty image or resolution");
  const int shorter = static_cast<int>(std::lround(resolution * 256.0 / 224.0));
  long long rw, rh;
  if (w <= h) {
    rw = shorter;
    rh = static_cast<long long>(shorter) * h / w;
  } else {
    rh = shorter;
    rw = static_cast<long long>(shorter) * w / h;
  }
  if (rw * rh > kMaxImagePixels)
    throw Error("image transform: a " + std::to_string(w) + "x" + std::to_string(h) +
                " image resizes to " + std::to_string(rw) + "x" + std::to_string(rh) +
                " pixels, over the limit of " + std::to_string(kMaxImagePixels) +
                " (an extreme aspect ratio)");
  std::vector<float> src(static_cast<std::size_t>(w) * h * 3);
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = rgb[i] / 255.0f;
  std::vector<float> resized(static_cast<std::size_t>(rw) * rh * 3);
  if (!stbir_resize_float_generic(src.data(), w, h, 0, resized.data(), static_cast<int>(rw),
                                  static_cast<int>(rh), 0, 3, STBIR_ALPHA_CHANNEL_NONE, 0,
                                  STBIR_EDGE_CLAMP, STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR,
                                  nullptr))
    throw Error("image transform: stb_image_resize failed");
  // torchvision's CenterCrop pads when the image is smaller than the crop; the shorter side is
  // already >= R here (256/224 > 1), so only the offsets matter.
  const int top = static_cast<int>(std::lround((rh - resolution) / 2.0));
  const int left = static_cast<int>(std::lround((rw - resolution) / 2.0));
  for (int y = 0; y < resolution; ++y)
    for (int x = 0; x < resolution; ++x)
      for (int c = 0; c < 3; ++c)
        dst[(static_cast<std::size_t>(y) * resolution + x) * 3 + c] =
            (resized[(static_cast<std::size_t>(y + top) * rw + x + left) * 3 + c] -
             kImageNetMean[c]) /
            kImageNetStd[c];
}

namespace {

bool is_image(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return std::tolower(ch); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

}  // namespace

ImageFolder::ImageFolder(const std::string& dir, int resolution)
    : id_("folder:" + dir), resolution_(resolution) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error("dataset folder '" + dir +
                "' does not exist (expected DIR/<class_name>/*.jpg|png)");
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) classes_.push_back(e.path().filename().string());
  std::sort(classes_.begin(), classes_.end());
  if (classes_.empty())
    throw Error("dataset folder '" + dir +
                "' has no class subfolders (expected DIR/<class_name>/*.jpg|png)");
  for (std::size_t c = 0; c < classes_.size(); ++c) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(fs::path(dir) / classes_[c]))
      if (e.is_regular_file() && is_image(e.path())) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (auto& f : files) {
      files_.push_back(std::move(f));
      labels_.push_back(static_cast<int>(c));
    }
  }
  if (files_.empty())
    throw Error("dataset folder '" + dir +
                "' holds no .jpg, .jpeg or .png image in its class subfolders");
}

int ImageFolder::label(std::size_t i) const {
  if (i >= labels_.size())
    throw Error(id_ + ": image index " + std::to_string(i) + " out of range");
  return labels_[i];
}

void ImageFolder::load(std::size_t i, float* dst) const {
  if (i >= files_.size()) throw Error(id_ + ": image index " + std::to_string(i) + " out of range");
  std::ifstream in(files_[i], std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw Error("cannot read image '" + files_[i] + "'");
  const RgbImage image =
      decode_rgb8(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), files_[i]);
  imagenet_eval_transform(image.pixels.data(), image.width, image.height, resolution_, dst);
}

RecalSplit recal_split(std::size_t n, std::uint64_t seed, std::size_t recal_count) {
  const std::vector<std::size_t> order = seeded_order(n, seed);
  const std::size_t k = std::min(recal_count, n / 2);
  RecalSplit s;
  s.recal.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k));
  s.held_out.assign(order.begin() + static_cast<std::ptrdiff_t>(k), order.end());
  return s;
}

}  // namespace hwnas
