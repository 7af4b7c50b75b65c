#include "evaluators/io/npz.h"

#include <cstdint>
#include <cstring>
#include <fstream>

#include <zlib.h>

#include "core/error.h"

namespace hwnas {

namespace {

std::uint32_t u32(const std::string& b, std::size_t at) {
  std::uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}
std::uint16_t u16(const std::string& b, std::size_t at) {
  std::uint16_t v;
  std::memcpy(&v, b.data() + at, 2);
  return v;
}

std::string inflate_raw(const std::string& src, std::size_t out_size, const std::string& what) {
  std::string out(out_size, '\0');
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw Error(what + ": zlib init failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(src.data()));
  zs.avail_in = static_cast<uInt>(src.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || zs.total_out != out_size)
    throw Error(what + ": corrupt deflate data in .npz member");
  return out;
}

}  // namespace

std::map<std::string, NpyArray> read_npz(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open .npz file '" + path + "': check the path");
  const std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string what = "'" + path + "'";
  // The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
  if (b.size() < 22) throw Error(what + ": not a zip archive (too short)");
  std::size_t eocd = std::string::npos;
  for (std::size_t i = b.size() - 22 + 1; i-- > 0 && b.size() - i <= 65557;) {
    if (u32(b, i) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos) throw Error(what + ": not a zip archive (no end record)");
  const std::size_t entries = u16(b, eocd + 10);
  std::size_t cd = u32(b, eocd + 16);
  std::map<std::string, NpyArray> out;
  for (std::size_t e = 0; e < entries; ++e) {
    if (cd + 46 > b.size() || u32(b, cd) != 0x02014b50)
      throw Error(what + ": corrupt zip central directory");
    const std::uint16_t method = u16(b, cd + 10);
    const std::uint32_t csize = u32(b, cd + 20), usize = u32(b, cd + 24);
    const std::uint16_t nlen = u16(b, cd + 28), xlen = u16(b, cd + 30), clen = u16(b, cd + 32);
    const std::uint32_t local = u32(b, cd + 42);
    if (cd + 46 + nlen > b.size()) throw Error(what + ": corrupt zip central directory");
    std::string name = b.substr(cd + 46, nlen);
    cd += 46 + nlen + xlen + clen;
    if (csize == 0xffffffffu || local == 0xffffffffu)
      throw Error(what + ": zip64 members are not supported");
    if (std::size_t{local} + 30 > b.size() || u32(b, local) != 0x04034b50)
      throw Error(what + ": corrupt zip local header for '" + name + "'");
    const std::size_t data = local + 30 + u16(b, local + 26) + u16(b, local + 28);
    if (data + csize > b.size()) throw Error(what + ": truncated zip member '" + name + "'");
    std::string raw = b.substr(data, csize);
    const std::string member = what + " member '" + name + "'";
    if (method == 8) {
      // Deflate expands at most 1032:1; a larger announced size is a forged header, refused
      // before it is allocated.
      if (usize > 1032.0 * csize + 1024)
        throw Error(member + ": corrupt zip member (" + std::to_string(usize) +
                    " bytes announced for " + std::to_string(csize) + " compressed)");
      raw = inflate_raw(raw, usize, member);
    } else if (method != 0) {
      throw Error(member + ": zip compression method " + std::to_string(method) +
                  " is not supported (stored or deflate only)");
    }
    if (crc32(0L, reinterpret_cast<const Bytef*>(raw.data()), static_cast<uInt>(raw.size())) !=
        u32(b, cd - (46 + nlen + xlen + clen) + 16))
      throw Error(member + ": CRC mismatch (corrupt archive)");
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
      name.resize(name.size() - 4);
    out[name] = parse_npy(raw, member);
  }
  return out;
}

}  // namespace hwnas
