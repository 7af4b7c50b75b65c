// .npy files (NumPy format 1.0-3.0): float32 (uint8 / int16 read), little-endian; read in C or
// Fortran order.
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

// .npy files (NumPy format 1.0-3.0): float32 (uint8 / int16 read), little-endian; read in C or
// Fortran order.
NpyArray read_npy(const std::string& path);
/// Parses .npy bytes (for arrays inside a .npz); `what` names them in errors.
NpyArray parse_npy(const std::string& bytes, const std::string& what);

/// Writes a float32 little-endian C-order .npy (format 1.0). Throws hwnas::Error if the file
/// cannot be written or the shape does not match data.size().
void write_npy(const std::string& path, const NpyArray& array);

}  // namespace hwnas
