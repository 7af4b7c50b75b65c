// Fuzz target: one image of an ImageFolder dataset (`--dataset DIR`), decoded by libpng or
// libjpeg-turbo (image_decode.h) whatever its extension says and given the evaluation transform
// at resolution 32.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/error.h"
#include "evaluators/datasets/image_decode.h"
#include "evaluators/datasets/image_folder.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = [] {
    hwnas::fuzz::write_file("images/cls/a.png", "");
    return hwnas::fuzz::scratch_dir() + "/images";
  }();
  hwnas::fuzz::write_file("images/cls/a.png", data, size);
  // Decoding and resizing take time in proportion to the pixels read and written, ~1 s per
  // megapixel under ASan + UBSan: a large valid image (or a thin one, resized to a long strip
  // before the centre crop) is slow, not a bug. The fuzzer explores images below 2^18 pixels
  // that resize to below 2^20 (the shorter side becomes 37 at resolution 32); ImageFolder's
  // own limit (kMaxImagePixels) is checked by the regression inputs, which the replay test
  // runs without this cap.
  const auto wh = hwnas::fuzz::replaying() ? std::nullopt : hwnas::image_size(data, size);
  if (wh && wh->first > 0 && wh->second > 0) {
    const auto [w, h] = *wh;
    const std::int64_t shorter = std::min(w, h), longer = std::max(w, h);
    if (std::int64_t{w} * h > (1 << 18) || 37 * 37 * longer / shorter > (1 << 20)) return 0;
  }
  try {
    const hwnas::ImageFolder set(dir, 32);
    std::vector<float> buf(32 * 32 * 3);
    set.load(0, buf.data());
  } catch (const hwnas::Error&) {
  }
  return 0;
}
