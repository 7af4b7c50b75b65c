// .npy files (NumPy format 1.0-3.0): float32 (uint8 / int16 read), little-endian, C order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hwnas {

/// An n-d float32 array as stored in a .npy file: shape in the file's order, data C order.
struct NpyArray {
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

/// Reads a .npy file. Accepts dtype '<f4' (or '|f4'/'=f4' treated as little-endian) in C order,
/// and '|u1' / '<i2' (uint8 images, int16 labels) widened exactly to float.
/// Throws hwnas::Error naming the file for a missing/unreadable file, a bad magic or header,
/// another dtype (e.g. '<f8': "convert with x.astype(np.float32)"), Fortran order or a
/// truncated payload.
NpyArray read_npy(const std::string& path);
/// Parses .npy bytes (for arrays inside a .npz); `what` names them in errors.
NpyArray parse_npy(const std::string& bytes, const std::string& what);

/// Writes a float32 little-endian C-order .npy (format 1.0). Throws hwnas::Error if the file
/// cannot be written or the shape does not match data.size().
void write_npy(const std::string& path, const NpyArray& array);

}  // namespace hwnas
