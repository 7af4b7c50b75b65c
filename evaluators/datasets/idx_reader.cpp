#include "evaluators/datasets/idx_reader.h"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "core/error.h"

namespace hwnas {

namespace {

struct GzCloser {
  void operator()(gzFile f) const noexcept { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// gzread transparently reads uncompressed files too, so one path serves .gz and plain IDX.
std::size_t read_some(gzFile f, std::uint8_t* dst, std::size_t n, const std::string& path) {
  std::size_t done = 0;
  while (done < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
    const int got = gzread(f, dst + done, chunk);
    if (got < 0) {
      int code = 0;
      throw Error("IDX file '" + path + "': corrupt gzip stream (" + gzerror(f, &code) + ")");
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  GzFile f(gzopen(path.c_str(), "rb"));
  if (!f) throw Error("cannot open IDX file '" + path + "'");
  std::uint8_t magic[4];
  if (read_some(f.get(), magic, 4, path) != 4)
    throw Error("IDX file '" + path + "' is truncated: shorter than its 4-byte magic");
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08)
    throw Error("IDX file '" + path + "' has a wrong magic (expected 00 00 08 <rank>: uint8 IDX)");
  const int rank = magic[3];
  if (rank < 1 || rank > 4)
    throw Error("IDX file '" + path + "' has rank " + std::to_string(rank) + " (expected 1..4)");
  IdxArray a;
  std::size_t count = 1;
  for (int d = 0; d < rank; ++d) {
    std::uint8_t b[4];
    if (read_some(f.get(), b, 4, path) != 4)
      throw Error("IDX file '" + path + "' is truncated inside its header");
    const std::uint32_t v = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                            (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
    a.dims.push_back(v);
    if (v != 0 && count > std::numeric_limits<std::size_t>::max() / v)
      throw Error("IDX file '" + path + "' has dims whose product overflows (corrupt header)");
    count *= v;
  }
  // The data grows as it is read: a forged header must not allocate what the file lacks.
  std::size_t got = 0;
  while (got < count) {
    const std::size_t want = std::min(count - got, std::max<std::size_t>(got, 1 << 16));
    a.data.resize(got + want);
    const std::size_t n = read_some(f.get(), a.data.data() + got, want, path);
    got += n;
    if (n < want) break;
  }
  if (got != count)
    throw Error("IDX file '" + path + "' is truncated: " + std::to_string(got) + " of " +
                std::to_string(count) + " data bytes");
  std::uint8_t extra;
  if (read_some(f.get(), &extra, 1, path) != 0)
    throw Error("IDX file '" + path + "' has more data than its dims announce (size mismatch)");
  return a;
}

void write_idx_gz(const std::string& path, const IdxArray& a) {
  std::size_t count = 1;
  for (auto d : a.dims) count *= static_cast<std::size_t>(d);
  if (a.dims.empty() || a.dims.size() > 4 || count != a.data.size())
    throw Error("write_idx_gz('" + path + "'): data size does not match dims");
  GzFile f(gzopen(path.c_str(), "wb"));
  if (!f) throw Error("cannot write IDX file '" + path + "'");
  std::vector<std::uint8_t> head = {0, 0, 0x08, static_cast<std::uint8_t>(a.dims.size())};
  for (auto d : a.dims)
    for (int s = 24; s >= 0; s -= 8) head.push_back(static_cast<std::uint8_t>((d >> s) & 0xff));
  const auto put = [&](const std::uint8_t* p, std::size_t n) {
    if (n && gzwrite(f.get(), p, static_cast<unsigned>(n)) != static_cast<int>(n))
      throw Error("cannot write IDX file '" + path + "'");
  };
  put(head.data(), head.size());
  put(a.data.data(), a.data.size());
}

}  // namespace hwnas
