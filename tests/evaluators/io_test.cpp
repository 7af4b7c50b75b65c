// .npy / .npz / safetensors readers: round trips, golden files, and clear errors.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "evaluators/io/npy.h"
#include "evaluators/io/npz.h"
#include "evaluators/io/safetensors.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string npy_bytes(const std::string& descr, const std::string& shape,
                      const std::string& payload, const std::string& order = "False") {
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': " + shape + ", }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string b = "\x93NUMPY\x01";
  b += '\0';
  b += static_cast<char>(header.size() & 0xff);
  b += static_cast<char>(header.size() >> 8);
  return b + header + payload;
}

std::string expect_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no hwnas::Error thrown";
  return "";
}

TEST(Npy, RoundTripAndGoldenInput) {
  const std::string dir = test::make_temp_dir("hwnas-npy");
  NpyArray a{{2, 3}, {1, 2, 3, 4, 5, 6.5f}};
  write_npy(dir + "/a.npy", a);
  const NpyArray b = read_npy(dir + "/a.npy");
  EXPECT_EQ(b.shape, a.shape);
  EXPECT_EQ(b.data, a.data);
  NpyArray one{{5}, {1, 2, 3, 4, 5}};
  write_npy(dir + "/one.npy", one);
  EXPECT_EQ(read_npy(dir + "/one.npy").shape, one.shape);
  const NpyArray in = read_npy(test::golden_dir() + "/efficientformer_l1.input.npy");
  EXPECT_EQ(in.shape, (std::vector<std::int64_t>{1, 3, 224, 224}));
  EXPECT_EQ(in.data.size(), 3u * 224 * 224);
}

TEST(Npy, FortranOrderIsReadInCOrder) {
  // A (2, 3, 2) array a[i][j][k] = 100 i + 10 j + k stored column-major (first index fastest),
  // as NumPy saves a transposed view.
  std::string payload;
  for (int k = 0; k < 2; ++k)
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 2; ++i) {
        const float v = static_cast<float>(100 * i + 10 * j + k);
        payload.append(reinterpret_cast<const char*>(&v), sizeof v);
      }
  const NpyArray a = parse_npy(npy_bytes("<f4", "(2, 3, 2)", payload, "True"), "fortran");
  ASSERT_EQ(a.shape, (std::vector<std::int64_t>{2, 3, 2}));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 2; ++k) EXPECT_EQ(a.data[(i * 3 + j) * 2 + k], 100 * i + 10 * j + k);
}

TEST(Npy, SmallIntegerDtypesWiden) {
  const std::string dir = test::make_temp_dir("hwnas-npy");
  write_bytes(dir + "/u1.npy", npy_bytes("|u1", "(3,)", std::string("\x00\x7f\xff", 3)));
  EXPECT_EQ(read_npy(dir + "/u1.npy").data, (std::vector<float>{0, 127, 255}));
  write_bytes(dir + "/i2.npy", npy_bytes("<i2", "(2,)", std::string("\x09\x00\xfe\xff", 4)));
  EXPECT_EQ(read_npy(dir + "/i2.npy").data, (std::vector<float>{9, -2}));
  write_bytes(dir + "/short.npy", npy_bytes("<i2", "(3,)", std::string(4, '\0')));
  EXPECT_NE(expect_error([&] { read_npy(dir + "/short.npy"); }).find("truncated"),
            std::string::npos);
}

TEST(Npy, ClearErrors) {
  const std::string dir = test::make_temp_dir("hwnas-npy");
  EXPECT_NE(expect_error([&] { read_npy(dir + "/missing.npy"); }).find("missing.npy"),
            std::string::npos);
  write_bytes(dir + "/f8.npy", npy_bytes("<f8", "(2,)", std::string(16, '\0')));
  EXPECT_NE(expect_error([&] { read_npy(dir + "/f8.npy"); }).find("<f8"), std::string::npos);
  write_bytes(dir + "/be.npy", npy_bytes(">f4", "(2,)", std::string(8, '\0')));
  EXPECT_NE(expect_error([&] { read_npy(dir + "/be.npy"); }).find("float32"), std::string::npos);
  write_bytes(dir + "/order.npy", npy_bytes("<f4", "(2, 2)", std::string(16, '\0'), "Maybe"));
  EXPECT_NE(expect_error([&] { read_npy(dir + "/order.npy"); }).find("fortran_order"),
            std::string::npos);
  write_bytes(dir + "/short.npy", npy_bytes("<f4", "(4,)", std::string(8, '\0')));
  EXPECT_NE(expect_error([&] { read_npy(dir + "/short.npy"); }).find("truncated"),
            std::string::npos);
  write_bytes(dir + "/junk.npy", "hello world, not numpy");
  EXPECT_NE(expect_error([&] { read_npy(dir + "/junk.npy"); }).find("magic"), std::string::npos);
  EXPECT_THROW(write_npy(dir + "/bad.npy", NpyArray{{3}, {1, 2}}), Error);
  // Written through a temporary and a rename (core/atomic_file.h): a failed write names the
  // path, and a rewrite replaces the file whole, leaving no temporary behind.
  EXPECT_NE(expect_error([&] {
              write_npy(dir + "/no/dir/p.npy", NpyArray{{1}, {1}});
            }).find("no/dir/p.npy"),
            std::string::npos);
  write_npy(dir + "/p.npy", NpyArray{{3}, {1, 2, 3}});
  write_npy(dir + "/p.npy", NpyArray{{1}, {7}});
  EXPECT_EQ(read_npy(dir + "/p.npy").data, std::vector<float>{7});
  EXPECT_FALSE(std::filesystem::exists(dir + "/p.npy.tmp"));
}

TEST(Npz, ReadsGoldenStages) {
  const auto stages = read_npz(test::golden_dir() + "/efficientformer_l1.stages.npz");
  ASSERT_EQ(stages.count("stem"), 1u);
  EXPECT_EQ(stages.at("stem").shape, (std::vector<std::int64_t>{1, 48, 56, 56}));
  EXPECT_EQ(stages.at("stage3").shape, (std::vector<std::int64_t>{1, 49, 448}));
  const std::string dir = test::make_temp_dir("hwnas-npz");
  write_bytes(dir + "/bad.npz", "PK\x03\x04 this is not a zip archive at all.....");
  EXPECT_THROW(read_npz(dir + "/bad.npz"), Error);
}

TEST(Safetensors, RoundTripAndHalfWidening) {
  const std::string dir = test::make_temp_dir("hwnas-st");
  WeightStore s;
  s.tensors["a.weight"] = StoredTensor{{2, 2}, {1, -2, 3.5f, 0}};
  s.tensors["b"] = StoredTensor{{3}, {7, 8, 9}};
  save_safetensors(dir + "/w.safetensors", s);
  const WeightStore r = load_safetensors(dir + "/w.safetensors");
  EXPECT_EQ(r.tensors.at("a.weight").data, s.tensors.at("a.weight").data);
  EXPECT_EQ(r.tensors.at("b").shape, s.tensors.at("b").shape);

  // Hand-built F16 file: 1.0 (0x3c00), -2.5 (0xc100), 65504 (0x7bff), smallest subnormal (0x0001).
  const std::uint16_t halves[4] = {0x3c00, 0xc100, 0x7bff, 0x0001};
  std::string header = R"({"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})";
  std::string b(8, '\0');
  const std::uint64_t len = header.size();
  std::memcpy(b.data(), &len, 8);
  b += header;
  b.append(reinterpret_cast<const char*>(halves), 8);
  write_bytes(dir + "/h.safetensors", b);
  const auto h = load_safetensors(dir + "/h.safetensors").tensors.at("h").data;
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1], -2.5f);
  EXPECT_EQ(h[2], 65504.0f);
  EXPECT_EQ(h[3], std::ldexp(1.0f, -24));
}

TEST(Safetensors, GoldenFileLoads) {
  const WeightStore w = load_safetensors(test::golden_dir() + "/efficientformer_l1.safetensors");
  EXPECT_EQ(w.tensors.size(), 247u);
  EXPECT_EQ(w.at("stem.conv1.weight").shape, (std::vector<std::int64_t>{24, 3, 3, 3}));
  EXPECT_THROW(w.at("nope"), Error);
}

TEST(Safetensors, CorruptFilesNameTheProblem) {
  const std::string dir = test::make_temp_dir("hwnas-st");
  EXPECT_NE(
      expect_error([&] { load_safetensors(dir + "/none.safetensors"); }).find("none.safetensors"),
      std::string::npos);
  write_bytes(dir + "/short.safetensors", "abc");
  EXPECT_THROW(load_safetensors(dir + "/short.safetensors"), Error);
  auto make = [&](const std::string& header, std::size_t payload) {
    std::string b(8, '\0');
    const std::uint64_t len = header.size();
    std::memcpy(b.data(), &len, 8);
    return b + header + std::string(payload, '\0');
  };
  write_bytes(dir + "/json.safetensors", make("{not json", 0));
  EXPECT_NE(expect_error([&] { load_safetensors(dir + "/json.safetensors"); }).find("corrupt"),
            std::string::npos);
  write_bytes(dir + "/trunc.safetensors",
              make(R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8));
  EXPECT_NE(expect_error([&] { load_safetensors(dir + "/trunc.safetensors"); }).find("'x'"),
            std::string::npos);
  write_bytes(dir + "/f64.safetensors",
              make(R"({"n":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8));
  EXPECT_NE(expect_error([&] { load_safetensors(dir + "/f64.safetensors"); }).find("F64"),
            std::string::npos);
  // Integer buffers load as floats (a timm state dict saved as is keeps num_batches_tracked).
  std::string i64 = make(R"({"n":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})", 0);
  const std::int64_t ints[2] = {7, -3};
  i64.append(reinterpret_cast<const char*>(ints), 16);
  write_bytes(dir + "/i64.safetensors", i64);
  EXPECT_EQ(load_safetensors(dir + "/i64.safetensors").at("n").data,
            (std::vector<float>{7.0f, -3.0f}));
  write_bytes(dir + "/size.safetensors",
              make(R"({"y":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8));
  EXPECT_NE(expect_error([&] { load_safetensors(dir + "/size.safetensors"); }).find("'y'"),
            std::string::npos);
  std::string huge(8, '\xff');
  write_bytes(dir + "/len.safetensors", huge + "{}");
  EXPECT_THROW(load_safetensors(dir + "/len.safetensors"), Error);
}

}  // namespace
}  // namespace hwnas
