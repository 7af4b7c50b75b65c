#include "evaluators/io/npy.h"

#include <bit>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace hwnas {

static_assert(std::endian::native == std::endian::little, "hwnas assumes a little-endian host");

namespace {

std::string header_value(const std::string& header, const std::string& key,
                         const std::string& what) {
  const auto pos = header.find("'" + key + "'");
  if (pos == std::string::npos) throw Error(what + ": .npy header has no '" + key + "' field");
  auto colon = header.find(':', pos);
  if (colon == std::string::npos) throw Error(what + ": malformed .npy header");
  std::size_t start = colon + 1;
  while (start < header.size() && header[start] == ' ') ++start;
  std::size_t end = start;
  if (header[start] == '(') {
    end = header.find(')', start);
    if (end == std::string::npos) throw Error(what + ": malformed shape in .npy header");
    return header.substr(start, end - start + 1);
  }
  if (header[start] == '\'') {
    end = header.find('\'', start + 1);
    if (end == std::string::npos) throw Error(what + ": malformed .npy header");
    return header.substr(start + 1, end - start - 1);
  }
  while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
  auto v = header.substr(start, end - start);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

}  // namespace

namespace {
// Column-major (first index fastest) -> row-major. NumPy writes transposed views this way
// (e.g. torch's x.transpose(1, 2) saved without np.ascontiguousarray).
std::vector<float> fortran_to_c(const std::vector<float>& f,
                                const std::vector<std::int64_t>& shape) {
  const std::size_t dims = shape.size();
  std::vector<std::size_t> fstride(dims, 1);
  for (std::size_t d = 1; d < dims; ++d)
    fstride[d] = fstride[d - 1] * static_cast<std::size_t>(shape[d - 1]);
  std::vector<float> c(f.size());
  std::vector<std::int64_t> idx(dims, 0);
  for (std::size_t i = 0; i < c.size(); ++i) {
    std::size_t off = 0;
    for (std::size_t d = 0; d < dims; ++d) off += static_cast<std::size_t>(idx[d]) * fstride[d];
    c[i] = f[off];
    for (std::size_t d = dims; d-- > 0;) {  // C order: last index fastest
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return c;
}
}  // namespace

NpyArray parse_npy(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    throw Error(what + ": not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw Error(what + ": truncated .npy header");
    std::uint32_t len;
    std::memcpy(&len, bytes.data() + 8, 4);
    header_len = len;
    offset = 12;
  } else {
    throw Error(what + ": unsupported .npy format version " + std::to_string(major));
  }
  if (bytes.size() < offset + header_len) throw Error(what + ": truncated .npy header");
  const std::string header = bytes.substr(offset, header_len);
  const std::string descr = header_value(header, "descr", what);
  // Small integer dtypes (uint8 images, int16 class predictions) widen to float exactly.
  enum class Dtype { f4, u1, i2 };
  Dtype dtype;
  if (descr == "<f4" || descr == "|f4" || descr == "=f4")
    dtype = Dtype::f4;
  else if (descr == "|u1")
    dtype = Dtype::u1;
  else if (descr == "<i2")
    dtype = Dtype::i2;
  else
    throw Error(what + ": dtype '" + descr +
                "' is not supported; hwnas reads float32 little-endian ('<f4'), uint8 or int16: "
                "save with x.astype(np.float32)");
  const std::string order = header_value(header, "fortran_order", what);
  if (order != "False" && order != "True")
    throw Error(what + ": malformed fortran_order '" + order + "' in .npy header");
  const std::string shape_text = header_value(header, "shape", what);
  if (shape_text.size() < 2 || shape_text.front() != '(' || shape_text.back() != ')')
    throw Error(what + ": malformed shape '" + shape_text + "' in .npy header (expected a tuple)");
  const std::size_t data_offset = offset + header_len;
  const std::size_t item_size = dtype == Dtype::f4 ? 4 : dtype == Dtype::i2 ? 2 : 1;
  // The element count is bounded by the payload as it grows, so that a forged shape can
  // neither overflow it nor ask for more memory than the file holds.
  const std::size_t max_count = (bytes.size() - data_offset) / item_size;
  NpyArray out;
  std::int64_t count = 1;
  bool too_large = false;
  {
    std::string inner = shape_text.substr(1, shape_text.size() - 2);
    std::stringstream ss(inner);
    std::string item;
    while (std::getline(ss, item, ',')) {
      std::size_t a = item.find_first_not_of(' ');
      if (a == std::string::npos) continue;
      try {
        const long long d = std::stoll(item.substr(a));
        if (d < 0) throw Error(what + ": negative dimension in .npy shape");
        out.shape.push_back(d);
        if (d == 0)
          count = 0;
        else if (static_cast<std::uint64_t>(count) > max_count / static_cast<std::uint64_t>(d))
          too_large = true;
        else
          count *= d;
      } catch (const std::logic_error&) {
        throw Error(what + ": malformed shape " + shape_text + " in .npy header");
      }
    }
  }
  if (too_large && count != 0)
    throw Error(what + ": truncated .npy payload (shape " + shape_text + " needs more than the " +
                std::to_string(bytes.size() - data_offset) + " bytes in the file)");
  const std::size_t need = static_cast<std::size_t>(count) * item_size;
  if (bytes.size() - data_offset < need)
    throw Error(what + ": truncated .npy payload (" + std::to_string(bytes.size() - data_offset) +
                " bytes, expected " + std::to_string(need) + ")");
  out.data.resize(static_cast<std::size_t>(count));
  const char* src = bytes.data() + data_offset;
  if (dtype == Dtype::f4) {
    if (need) std::memcpy(out.data.data(), src, need);
  } else {
    for (std::size_t i = 0; i < out.data.size(); ++i) {
      if (dtype == Dtype::u1) {
        out.data[i] = static_cast<unsigned char>(src[i]);
      } else {
        std::int16_t v;
        std::memcpy(&v, src + 2 * i, 2);
        out.data[i] = v;
      }
    }
  }
  if (order == "True" && out.shape.size() > 1) out.data = fortran_to_c(out.data, out.shape);
  return out;
}

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open .npy file '" + path + "': check the path");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_npy(bytes, "'" + path + "'");
}

void write_npy(const std::string& path, const NpyArray& array) {
  std::int64_t count = 1;
  for (auto d : array.shape) count *= d;
  if (count != static_cast<std::int64_t>(array.data.size()))
    throw Error("write_npy '" + path + "': shape holds " + std::to_string(count) +
                " elements but data has " + std::to_string(array.data.size()));
  std::string shape = "(";
  for (std::size_t i = 0; i < array.shape.size(); ++i) {
    shape += std::to_string(array.shape[i]);
    if (array.shape.size() == 1 || i + 1 < array.shape.size()) shape += ",";
    if (i + 1 < array.shape.size()) shape += " ";
  }
  shape += ")";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so that the payload starts on a 64-byte boundary, as NumPy does.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  const std::uint16_t len = static_cast<std::uint16_t>(header.size());
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(len & 0xff);
  bytes += static_cast<char>(len >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(array.data.data()), array.data.size() * sizeof(float));
  write_file_atomic(path, bytes);
}

}  // namespace hwnas
