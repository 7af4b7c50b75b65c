// Decoding a PNG or JPEG file's bytes into 8-bit RGB, with libpng (simplified API) and
// libjpeg-turbo (TurboJPEG): the reference decoders, hardened by years of fuzzing, rather than
// stb_image, whose JPEG decoder crashed on a 148-byte input of the image_folder fuzz target.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hwnas {

/// The largest image hwnas decodes or resizes, in pixels (2^25, e.g. 8192 x 4096): a decoder
/// allocates an image from its header's dimensions, so a damaged or hostile header could
/// otherwise claim gigabytes before a byte of pixel data is read.
inline constexpr std::int64_t kMaxImagePixels = std::int64_t{1} << 25;

/// An 8-bit RGB image, row-major (height, width, 3), no padding between rows.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;
};

/// Width and height from a PNG's or JPEG's header (the format is told by the content, not a
/// name), or nullopt if `data` is neither or its header does not parse. Reads no pixel data.
std::optional<std::pair<int, int>> image_size(const std::uint8_t* data, std::size_t size);

/// Decodes PNG (libpng's simplified API: any bit depth and colour type; 16-bit samples converted
/// to 8-bit sRGB by libpng; alpha dropped, not composited, as PIL's convert("RGB"); grey
/// replicated to RGB) or JPEG (libjpeg-turbo: accurate integer IDCT,
/// smooth upsampling, the libjpeg defaults PIL uses; progressive files with at most 500 scans)
/// into RGB. The format is told by the content. Throws hwnas::Error naming `name` (the file)
/// and the fix if the bytes are neither format, a PNG chunk claims more bytes than the file
/// holds, the header declares more than kMaxImagePixels pixels, or the decoder reports an error
/// or a warning (a truncated or corrupt file).
RgbImage decode_rgb8(const std::uint8_t* data, std::size_t size, const std::string& name);

}  // namespace hwnas
