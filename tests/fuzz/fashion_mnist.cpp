// Fuzz target: a Fashion-MNIST directory (an images and a labels IDX file), read as
// `--dataset DIR` reads it, then every image preprocessed. Input layout: byte 0 picks the split
// (bit 0: train) and the resolution (bit 1: 128, else 64); bytes 1-4 hold the images file's
// length n (little-endian); the next n bytes are the images file, the rest the labels file.
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "evaluators/datasets/fashion_mnist.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return 0;
  const bool train = data[0] & 1;
  const int resolution = (data[0] & 2) ? 128 : 64;
  std::uint32_t n = 0;
  std::memcpy(&n, data + 1, 4);
  const std::size_t images = std::min<std::size_t>(n, size - 5);
  const std::string prefix = std::string("fmnist/") + (train ? "train" : "t10k");
  hwnas::fuzz::write_file(prefix + "-images-idx3-ubyte.gz", data + 5, images);
  hwnas::fuzz::write_file(prefix + "-labels-idx1-ubyte.gz", data + 5 + images, size - 5 - images);
  try {
    const hwnas::FashionMnist set(hwnas::fuzz::scratch_dir() + "/fmnist", train, resolution);
    const auto shape = set.image_shape();
    std::vector<float> buf(static_cast<std::size_t>(shape.h) * shape.w * shape.c);
    // A few images suffice: every image goes through the same code.
    for (std::size_t i = 0; i < set.size() && i < 4; ++i) {
      if (set.label(i) >= set.num_classes()) std::abort();
      set.load(i, buf.data());
    }
  } catch (const hwnas::Error&) {
  }
  return 0;
}
