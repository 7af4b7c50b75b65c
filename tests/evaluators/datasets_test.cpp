// Datasets: IDX reader on good and corrupt files, Fashion-MNIST preprocessing and seeded splits,
// ImageFolder decoding and its evaluation transform.
#include <gtest/gtest.h>

#include <stb_image_write.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"
#include "evaluators/datasets/eval_data.h"
#include "evaluators/datasets/fashion_mnist.h"
#include "evaluators/datasets/idx_reader.h"
#include "evaluators/datasets/image_decode.h"
#include "evaluators/datasets/image_folder.h"
#include "evaluators/datasets/seeded_split.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

using test::error_of;

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

std::string idx_header(std::uint8_t dtype, std::vector<std::uint32_t> dims) {
  std::string h = {0, 0, static_cast<char>(dtype), static_cast<char>(dims.size())};
  for (auto d : dims)
    for (int s = 24; s >= 0; s -= 8) h += static_cast<char>((d >> s) & 0xff);
  return h;
}

TEST(Idx, RoundTripGzipAndPlain) {
  const std::string dir = test::make_temp_dir("hwnas-idx");
  IdxArray a{{3, 2, 2}, {}};
  for (int i = 0; i < 12; ++i) a.data.push_back(static_cast<std::uint8_t>(i * 20));
  write_idx_gz(dir + "/a.gz", a);
  const IdxArray b = read_idx(dir + "/a.gz");
  EXPECT_EQ(b.dims, a.dims);
  EXPECT_EQ(b.data, a.data);
  // An uncompressed IDX file (header written by hand) reads the same.
  std::ofstream(dir + "/plain", std::ios::binary)
      << idx_header(0x08, {3, 2, 2}) << std::string(a.data.begin(), a.data.end());
  EXPECT_EQ(read_idx(dir + "/plain").data, a.data);
}

TEST(Idx, CorruptFilesNameTheFile) {
  const std::string dir = test::make_temp_dir("hwnas-idx");
  const std::string payload(12, '\x07');
  write_gz(dir + "/magic.gz", idx_header(0x0D, {3, 2, 2}) + std::string(48, '\0'));  // float IDX
  write_gz(dir + "/trunc.gz", idx_header(0x08, {3, 2, 2}) + payload.substr(0, 10));
  write_gz(dir + "/head.gz", idx_header(0x08, {3, 2, 2}).substr(0, 7));
  write_gz(dir + "/extra.gz", idx_header(0x08, {3, 2, 2}) + payload + "x");
  write_gz(dir + "/rank.gz", idx_header(0x08, {}));
  std::ofstream(dir + "/badgz.gz", std::ios::binary) << std::string("\x1f\x8b\x08\x00garbage", 11);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"magic.gz", "wrong magic"},
      {"trunc.gz", "truncated: 10 of 12"},
      {"head.gz", "truncated"},
      {"extra.gz", "size mismatch"},
      {"rank.gz", "rank 0"},
      {"missing.gz", "cannot open"},
      {"badgz.gz", ""}};
  for (const auto& [file, what] : cases) {
    const std::string e = error_of([&] { read_idx(dir + "/" + file); });
    EXPECT_NE(e.find(dir + "/" + file), std::string::npos) << e;
    EXPECT_NE(e.find(what), std::string::npos) << e;
  }
}

TEST(FashionMnist, PreprocessingPadsUpsamplesAndNormalises) {
  std::vector<std::uint8_t> img(28 * 28);
  for (int i = 0; i < 28 * 28; ++i) img[i] = static_cast<std::uint8_t>((i * 7) % 256);
  const auto norm = [](double v) { return (v / 255.0 - 0.2860) / 0.3530; };
  // 64x64 (efficientformer-fmnist, 2x) and 128x128 (elasticvit-fmnist, 4x).
  for (const int side : {64, 128}) {
    const int f = fashion_mnist_upsample(side);
    ASSERT_EQ(f * 32, side);
    std::vector<float> out(side * side);
    preprocess_fashion_mnist(img.data(), out.data(), f);
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x) {
        // pixel (y, x) is 32x32 pixel (y/f, x/f), which is 28x28 pixel (y/f-2, x/f-2) or pad.
        const int r = y / f - 2, c = x / f - 2;
        const double want =
            (r < 0 || r >= 28 || c < 0 || c >= 28) ? norm(0) : norm(img[r * 28 + c]);
        ASSERT_NEAR(out[y * side + x], want, 1e-6) << side << ": " << y << "," << x;
      }
  }
  for (const int bad : {32, 96, 224})
    EXPECT_NE(error_of([&] { fashion_mnist_upsample(bad); }).find("64x64"), std::string::npos)
        << bad;
}

TEST(FashionMnist, SplitIsSeededDisjointAndKeyOrdered) {
  // splitmix64 reference value: Vigna's splitmix64.c from state 0 gives 0xe220a8397b1dcdaf.
  EXPECT_EQ(splitmix64(0), 0xe220a8397b1dcdafull);
  const FashionMnistSplit s = fashion_mnist_split(0);
  ASSERT_EQ(s.val.size(), 5000u);
  ASSERT_EQ(s.train.size(), 55000u);
  std::set<std::size_t> all(s.val.begin(), s.val.end());
  all.insert(s.train.begin(), s.train.end());
  EXPECT_EQ(all.size(), 60000u);
  const auto key = [](std::uint64_t seed, std::size_t i) {
    return splitmix64(seed * 0x9E3779B97F4A7C15ull + i);
  };
  EXPECT_LT(key(0, s.val.back()), key(0, s.train.front()));
  for (std::size_t i = 1; i < 512; ++i) ASSERT_LT(key(0, s.train[i - 1]), key(0, s.train[i]));
  EXPECT_EQ(fashion_mnist_split(0).val, s.val);
  EXPECT_NE(fashion_mnist_split(1).val, s.val);
  EXPECT_THROW(fashion_mnist_split(0, 100, 5000), Error);
}

TEST(FashionMnist, DebianPackageReads) {
  const std::string dir = locate_fashion_mnist();
  const FashionMnist test(dir, false);
  EXPECT_EQ(test.size(), 10000u);
  EXPECT_EQ(test.id(), "fashion-mnist:test");
  std::vector<int> count(10, 0);
  for (std::size_t i = 0; i < test.size(); ++i) ++count[test.label(i)];
  for (int c = 0; c < 10; ++c) EXPECT_EQ(count[c], 1000) << c;  // t10k is balanced
  EXPECT_THROW(test.label(10000), Error);
  // At 128 (elasticvit-fmnist) the same images load 4x upsampled.
  const FashionMnist big(dir, false, 128);
  EXPECT_EQ(big.image_shape().h, 128);
  std::vector<float> a(64 * 64), b(128 * 128);
  test.load(3, a.data());
  big.load(3, b.data());
  for (int y = 0; y < 128; ++y)
    for (int x = 0; x < 128; ++x)
      ASSERT_EQ(b[y * 128 + x], a[(y / 2) * 64 + x / 2]) << y << "," << x;
  EXPECT_THROW(FashionMnist(dir, false, 96), Error);
  const std::string e = error_of([] { locate_fashion_mnist("/nonexistent-fmnist"); });
  EXPECT_NE(e.find("apt-get install dataset-fashion-mnist"), std::string::npos) << e;
  EXPECT_NE(e.find("/nonexistent-fmnist"), std::string::npos) << e;
}

// A w x h RGB PNG of one colour per half (left, right).
void write_png(const std::string& path, int w, int h, std::array<int, 3> left,
               std::array<int, 3> right) {
  std::vector<std::uint8_t> px(static_cast<std::size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        px[(y * w + x) * 3 + c] = static_cast<std::uint8_t>(x < w / 2 ? left[c] : right[c]);
  ASSERT_TRUE(stbi_write_png(path.c_str(), w, h, 3, px.data(), w * 3));
}

TEST(ImageFolder, ClassesLabelsAndTransform) {
  const std::string dir = test::make_temp_dir("hwnas-folder");
  std::filesystem::create_directories(dir + "/zebra");
  std::filesystem::create_directories(dir + "/ant");
  write_png(dir + "/zebra/b.png", 40, 30, {200, 100, 50}, {200, 100, 50});
  write_png(dir + "/zebra/a.PNG", 30, 40, {10, 20, 30}, {10, 20, 30});
  write_png(dir + "/ant/x.png", 64, 32, {255, 0, 0}, {0, 0, 255});
  std::ofstream(dir + "/ant/notes.txt") << "not an image";
  const ImageFolder f(dir, 16);
  EXPECT_EQ(f.classes(), (std::vector<std::string>{"ant", "zebra"}));
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f.label(0), 0);
  EXPECT_EQ(f.label(1), 1);
  EXPECT_NE(f.path(1).find("a.PNG"), std::string::npos);  // sorted within the class
  EXPECT_EQ(f.image_shape(), (FeatureShape{16, 16, 3}));
  std::vector<float> out(16 * 16 * 3);
  // A one-colour image stays that colour through resize and crop: only the normalisation shows.
  f.load(2, out.data());
  const int colour[3] = {200, 100, 50};
  for (int p = 0; p < 16 * 16; ++p)
    for (int c = 0; c < 3; ++c)
      ASSERT_NEAR(out[p * 3 + c], (colour[c] / 255.0 - kImageNetMean[c]) / kImageNetStd[c], 1e-4);
  // 64x32 -> shorter side round(16*256/224) = 18: 36x18, centre crop 16 from column 10: the
  // crop's left 8 columns are red (far from the seam only), the right 8 blue.
  f.load(0, out.data());
  const auto px = [&](int y, int x, int c) { return out[(y * 16 + x) * 3 + c]; };
  EXPECT_NEAR(px(8, 0, 0), (1.0 - 0.485) / 0.229, 1e-4);
  EXPECT_NEAR(px(8, 15, 2), (1.0 - 0.406) / 0.225, 1e-4);
  EXPECT_NEAR(px(8, 15, 0), (0.0 - 0.485) / 0.229, 1e-4);
}

TEST(ImageFolder, ErrorsNameTheFileOrFolder) {
  const std::string dir = test::make_temp_dir("hwnas-folder");
  EXPECT_NE(error_of([&] { ImageFolder(dir, 16); }).find("no class subfolders"), std::string::npos);
  std::filesystem::create_directories(dir + "/cat");
  EXPECT_NE(error_of([&] { ImageFolder(dir, 16); }).find("no .jpg"), std::string::npos);
  std::ofstream(dir + "/cat/broken.jpg", std::ios::binary) << "\xff\xd8\xff garbage";
  const ImageFolder f(dir, 16);
  std::vector<float> out(16 * 16 * 3);
  const std::string e = error_of([&] { f.load(0, out.data()); });
  EXPECT_NE(e.find("cat/broken.jpg"), std::string::npos) << e;
  EXPECT_NE(error_of([&] { ImageFolder(dir + "/none", 16); }).find("/none"), std::string::npos);
}

// A valid 2x2 PNG whose IDAT chunk claims 2^31 - 1 bytes: stb_image would allocate them before
// finding the file short (the image_folder fuzz target's out-of-memory input); hwnas refuses
// the file from its chunk headers.
TEST(ImageFolder, APngChunkLongerThanTheFileIsRefusedBeforeDecoding) {
  const std::string dir = test::make_temp_dir("hwnas-folder");
  std::filesystem::create_directories(dir + "/cat");
  write_png(dir + "/cat/a.png", 2, 2, {1, 2, 3}, {4, 5, 6});
  std::ifstream in(dir + "/cat/a.png", std::ios::binary);
  std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t idat = png.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  const ImageFolder f(dir, 16);
  std::vector<float> out(16 * 16 * 3);
  EXPECT_NO_THROW(f.load(0, out.data()));  // the untouched file decodes
  png[idat - 4] = '\x7f', png[idat - 3] = '\xff', png[idat - 2] = '\xff', png[idat - 1] = '\xff';
  std::ofstream(dir + "/cat/a.png", std::ios::binary) << png;
  const std::string e = error_of([&] { f.load(0, out.data()); });
  EXPECT_NE(e.find("damaged PNG: chunk 'IDAT' declares 2147483647 bytes"), std::string::npos) << e;
  EXPECT_NE(e.find("cat/a.png"), std::string::npos) << e;
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The decoders against an independent encoder (stb_image_write) and hand values.
TEST(ImageDecode, PngAndJpegDecodeToTheWrittenPixels) {
  const std::string dir = test::make_temp_dir("hwnas-decode");
  // RGBA PNG, lossless: the RGB values come back exactly and alpha is dropped, not composited
  // (PIL's convert("RGB")): a pixel with alpha 0 keeps its colour.
  const int w = 5, h = 3;
  std::vector<std::uint8_t> rgba(w * h * 4);
  for (int i = 0; i < w * h; ++i) {
    rgba[i * 4 + 0] = static_cast<std::uint8_t>(17 * i);
    rgba[i * 4 + 1] = static_cast<std::uint8_t>(255 - 13 * i);
    rgba[i * 4 + 2] = static_cast<std::uint8_t>(7 + 3 * i);
    rgba[i * 4 + 3] = static_cast<std::uint8_t>(i % 2 ? 0 : 255);
  }
  ASSERT_TRUE(stbi_write_png((dir + "/a.png").c_str(), w, h, 4, rgba.data(), w * 4));
  std::vector<std::uint8_t> bytes = read_bytes(dir + "/a.png");
  EXPECT_EQ(image_size(bytes.data(), bytes.size()), std::make_pair(w, h));
  RgbImage png = decode_rgb8(bytes.data(), bytes.size(), "a.png");
  ASSERT_EQ(png.width, w);
  ASSERT_EQ(png.height, h);
  ASSERT_EQ(png.pixels.size(), std::size_t(w * h * 3));
  for (int i = 0; i < w * h; ++i)
    for (int c = 0; c < 3; ++c) ASSERT_EQ(png.pixels[i * 3 + c], rgba[i * 4 + c]) << i << " " << c;
  // Grey PNG: replicated to the three channels.
  const std::uint8_t grey[4] = {0, 85, 170, 255};
  ASSERT_TRUE(stbi_write_png((dir + "/g.png").c_str(), 2, 2, 1, grey, 2));
  bytes = read_bytes(dir + "/g.png");
  png = decode_rgb8(bytes.data(), bytes.size(), "g.png");
  for (int i = 0; i < 4; ++i)
    for (int c = 0; c < 3; ++c) ASSERT_EQ(png.pixels[i * 3 + c], grey[i]);
  // JPEG at quality 100 of a flat colour: lossy, so within a few levels of it everywhere.
  const int jw = 24, jh = 16;
  std::vector<std::uint8_t> flat(jw * jh * 3);
  for (int i = 0; i < jw * jh; ++i) flat[i * 3] = 200, flat[i * 3 + 1] = 100, flat[i * 3 + 2] = 50;
  ASSERT_TRUE(stbi_write_jpg((dir + "/f.jpg").c_str(), jw, jh, 3, flat.data(), 100));
  bytes = read_bytes(dir + "/f.jpg");
  EXPECT_EQ(image_size(bytes.data(), bytes.size()), std::make_pair(jw, jh));
  const RgbImage jpg = decode_rgb8(bytes.data(), bytes.size(), "f.jpg");
  ASSERT_EQ(jpg.width, jw);
  ASSERT_EQ(jpg.height, jh);
  for (int i = 0; i < jw * jh; ++i)
    for (int c = 0; c < 3; ++c) ASSERT_NEAR(jpg.pixels[i * 3 + c], flat[c], 3) << i << " " << c;
  // Cut short, the JPEG is an error (a warning in libjpeg, which would otherwise decode grey).
  bytes.resize(bytes.size() / 2);
  const std::string e = error_of([&] { decode_rgb8(bytes.data(), bytes.size(), "cut.jpg"); });
  EXPECT_NE(e.find("cannot decode image 'cut.jpg' (libjpeg-turbo"), std::string::npos) << e;
}

// The 148-byte JPEG on which stb_image's decoder read out of bounds (the image_folder fuzz
// target, 2026-12-04; kept as a regression input): an error naming the file, no crash.
TEST(ImageDecode, TheJpegThatCrashedStbImageIsAClearError) {
  const std::vector<std::uint8_t> bytes =
      read_bytes(test::test_data_dir() + "/../fuzz/regressions/image_folder/jpeg_stb_segv");
  ASSERT_EQ(bytes.size(), 148u);
  const std::string e = error_of([&] { decode_rgb8(bytes.data(), bytes.size(), "x.jpg"); });
  EXPECT_NE(e.find("cannot decode image 'x.jpg'"), std::string::npos) << e;
  // Its SOF0 says 20 x 398, but libjpeg-turbo refuses the header's tables already.
  EXPECT_FALSE(image_size(bytes.data(), bytes.size()).has_value());
}

TEST(ImageFolder, RecalSplitIsSeededAndHeldOut) {
  const RecalSplit s = recal_split(100, 4, 512);  // capped at half
  EXPECT_EQ(s.recal.size(), 50u);
  std::set<std::size_t> all(s.recal.begin(), s.recal.end());
  all.insert(s.held_out.begin(), s.held_out.end());
  EXPECT_EQ(all.size(), 100u);
  EXPECT_EQ(recal_split(100, 4, 10).recal,
            std::vector<std::size_t>(s.recal.begin(), s.recal.begin() + 10));
  EXPECT_NE(recal_split(100, 5, 10).recal, recal_split(100, 4, 10).recal);
  EXPECT_NE(error_of([] { open_eval_data("fashion-mnist", "train", 0, 64); }).find("unknown split"),
            std::string::npos);
}

}  // namespace
}  // namespace hwnas
