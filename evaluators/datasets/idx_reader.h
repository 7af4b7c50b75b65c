// IDX files (LeCun's MNIST format, also Fashion-MNIST's), gzip-compressed or plain.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hwnas {

/// An unsigned-byte IDX array: dims (e.g. {60000, 28, 28} or {60000}) and the bytes, row-major.
struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> data;
};

/// Reads an IDX file of dtype 0x08 (uint8), gzip-compressed (.gz, read through zlib) or plain.
/// Format: 2 zero bytes, dtype byte, rank byte, rank big-endian uint32 dims, then the data.
/// Throws hwnas::Error naming the file for a missing file, a wrong magic (not IDX, or another
/// dtype), a rank outside 1..4, data shorter than the dims announce (truncated), or bytes left
/// over after the data (size mismatch).
IdxArray read_idx(const std::string& path);

/// Writes a gzip-compressed uint8 IDX file (tests). Throws hwnas::Error on I/O failure or when
/// data.size() does not match dims.
void write_idx_gz(const std::string& path, const IdxArray& array);

}  // namespace hwnas
