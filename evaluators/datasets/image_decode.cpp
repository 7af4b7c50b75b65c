#include "evaluators/datasets/image_decode.h"

#include <png.h>
#include <turbojpeg.h>

#include <cstring>
#include <limits>
#include <memory>

#include "core/error.h"

namespace hwnas {
namespace {

constexpr unsigned char kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

bool is_png(const std::uint8_t* b, std::size_t size) {
  return size >= 8 && std::memcmp(b, kPngSignature, 8) == 0;
}
bool is_jpeg(const std::uint8_t* b, std::size_t size) {
  return size >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff;
}

std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 |
         std::uint32_t{p[3]};
}

// A chunk longer than what is left of the file is a truncated or damaged PNG. libpng would
// report it too, as "IDAT: ... " or "Read Error"; checking the 8-byte chunk headers first names
// the chunk and both lengths.
void check_png_chunks(const std::uint8_t* b, std::size_t size, const std::string& name) {
  std::size_t at = 8;  // after the signature
  while (at + 8 <= size) {
    const std::uint32_t length = be32(b + at);
    const std::string type(reinterpret_cast<const char*>(b + at + 4), 4);
    const std::size_t left = size - at - 8;
    if (std::size_t{length} + 4 > left)  // data and its CRC
      throw Error("image '" + name + "' is a damaged PNG: chunk '" + type + "' declares " +
                  std::to_string(length) + " bytes where " + std::to_string(left) +
                  " remain: remove or replace the file");
    at += 12 + length;
    if (type == "IEND") return;
  }
}

void check_pixels(std::int64_t w, std::int64_t h, const std::string& name) {
  if (w * h > kMaxImagePixels)
    throw Error("image '" + name + "' is " + std::to_string(w) + "x" + std::to_string(h) +
                " pixels, over hwnas's limit of " + std::to_string(kMaxImagePixels) +
                " (a damaged header?): remove or downscale the file");
}

// png_image owns libpng's read state until png_image_finish_read or png_image_free; freeing
// twice is harmless, so every exit path frees.
struct PngImage {
  png_image image{};
  PngImage() { image.version = PNG_IMAGE_VERSION; }
  ~PngImage() { png_image_free(&image); }
  PngImage(const PngImage&) = delete;
  PngImage& operator=(const PngImage&) = delete;
};

RgbImage decode_png(const std::uint8_t* b, std::size_t size, const std::string& name) {
  check_png_chunks(b, size, name);
  PngImage png;
  if (!png_image_begin_read_from_memory(&png.image, b, size))
    throw Error("cannot decode image '" + name + "' (libpng: " + png.image.message +
                "): remove or replace the file");
  check_pixels(png.image.width, png.image.height, name);
  // RGBA, then the alpha dropped: PIL's convert("RGB"), which torchvision's ImageFolder uses,
  // discards alpha rather than compositing.
  png.image.format = PNG_FORMAT_RGBA;
  std::vector<std::uint8_t> rgba(PNG_IMAGE_SIZE(png.image));
  if (!png_image_finish_read(&png.image, nullptr, rgba.data(), 0, nullptr))
    throw Error("cannot decode image '" + name + "' (libpng: " + png.image.message +
                "): remove or replace the file");
  RgbImage out{static_cast<int>(png.image.width), static_cast<int>(png.image.height), {}};
  const std::size_t n = std::size_t(out.width) * std::size_t(out.height);
  out.pixels.resize(n * 3);
  for (std::size_t i = 0; i < n; ++i) std::memcpy(&out.pixels[i * 3], &rgba[i * 4], 3);
  return out;
}

// TurboJPEG takes sizes as unsigned long, which holds any size_t on the LP64 targets hwnas
// builds for.
static_assert(sizeof(unsigned long) >= sizeof(std::size_t));

using TjHandle = std::unique_ptr<void, int (*)(tjhandle)>;

TjHandle jpeg_decompressor(const std::string& name) {
  TjHandle tj(tjInitDecompress(), tjDestroy);
  if (!tj)
    throw Error("cannot decode image '" + name + "' (libjpeg-turbo: " + tjGetErrorStr2(nullptr) +
                ")");
  return tj;
}

RgbImage decode_jpeg(const std::uint8_t* b, std::size_t size, const std::string& name) {
  const TjHandle tj = jpeg_decompressor(name);
  const auto fail = [&](const char* what) {
    return Error("cannot decode image '" + name + "' (libjpeg-turbo: " + what +
                 "): remove or replace the file");
  };
  int w = 0, h = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(tj.get(), b, static_cast<unsigned long>(size), &w, &h, &subsampling,
                          &colorspace) != 0)
    throw fail(tjGetErrorStr2(tj.get()));
  check_pixels(w, h, name);
  RgbImage out{w, h, std::vector<std::uint8_t>(std::size_t(w) * std::size_t(h) * 3)};
  // Stop on warnings too (a truncated or corrupt file decodes "successfully" with grey
  // blocks otherwise), and cap a progressive file at 500 scans (each one rereads the image).
  if (tjDecompress2(tj.get(), b, static_cast<unsigned long>(size), out.pixels.data(), w, 0, h,
                    TJPF_RGB, TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0)
    throw fail(tjGetErrorStr2(tj.get()));
  return out;
}

}  // namespace

std::optional<std::pair<int, int>> image_size(const std::uint8_t* data, std::size_t size) {
  if (is_png(data, size)) {
    PngImage png;
    if (!png_image_begin_read_from_memory(&png.image, data, size)) return std::nullopt;
    if (png.image.width > std::numeric_limits<int>::max() ||
        png.image.height > std::numeric_limits<int>::max())
      return std::nullopt;
    return std::make_pair(static_cast<int>(png.image.width), static_cast<int>(png.image.height));
  }
  if (is_jpeg(data, size)) {
    const TjHandle tj(tjInitDecompress(), tjDestroy);
    int w = 0, h = 0, subsampling = 0, colorspace = 0;
    if (!tj || tjDecompressHeader3(tj.get(), data, static_cast<unsigned long>(size), &w, &h,
                                   &subsampling, &colorspace) != 0)
      return std::nullopt;
    return std::make_pair(w, h);
  }
  return std::nullopt;
}

RgbImage decode_rgb8(const std::uint8_t* data, std::size_t size, const std::string& name) {
  if (is_png(data, size)) return decode_png(data, size, name);
  if (is_jpeg(data, size)) return decode_jpeg(data, size, name);
  throw Error("image '" + name + "' is neither a PNG nor a JPEG file (by its content): " +
              "remove or convert the file");
}

}  // namespace hwnas
