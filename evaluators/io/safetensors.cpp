#include "evaluators/io/safetensors.h"

#include <bit>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"

namespace hwnas {

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + ")";
}

const StoredTensor& WeightStore::at(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw Error("weights: missing tensor '" + name + "'");
  return it->second;
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t man = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal half: normalise
      exp = 127 - 15 + 1;
      while ((man & 0x400u) == 0) {
        man <<= 1;
        --exp;
      }
      man &= 0x3ffu;
      bits = sign | (exp << 23) | (man << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  return std::bit_cast<float>(bits);
}

WeightStore load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open weights file '" + path + "': check the path");
  const std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string what = "weights file '" + path + "'";
  if (b.size() < 8) throw Error(what + ": truncated (no safetensors header)");
  std::uint64_t hlen;
  std::memcpy(&hlen, b.data(), 8);
  if (hlen > b.size() - 8) throw Error(what + ": corrupt safetensors header length");
  nlohmann::json header;
  try {
    header =
        nlohmann::json::parse(b.begin() + 8, b.begin() + 8 + static_cast<std::ptrdiff_t>(hlen));
  } catch (const nlohmann::json::exception& e) {
    throw Error(what + ": corrupt safetensors header (" + e.what() + ")");
  }
  if (!header.is_object()) throw Error(what + ": corrupt safetensors header (not an object)");
  const std::size_t base = 8 + hlen;
  const std::size_t data_size = b.size() - base;
  WeightStore store;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (entry.is_object())
        for (const auto& [k, v] : entry.items())
          store.metadata[k] = v.is_string() ? v.get<std::string>() : v.dump();
      continue;
    }
    const std::string t = what + ", tensor '" + name + "'";
    try {
      const std::string dtype = entry.at("dtype").get<std::string>();
      StoredTensor st;
      // nlohmann converts a JSON float to an integer with a plain cast, undefined when out of
      // range, so every integer field is checked to be one first.
      std::size_t count = 1;
      bool over_data = false;  // the product exceeds the data section (it may overflow)
      for (const auto& d : entry.at("shape")) {
        if (!d.is_number_integer()) throw Error(t + ": shape entries must be integers");
        const auto v = d.get<std::int64_t>();
        if (v < 0) throw Error(t + ": negative dimension");
        st.shape.push_back(v);
        const auto u = static_cast<std::size_t>(v);
        if (u == 0)
          count = 0;
        else if (count > data_size / u)
          over_data = true;
        else
          count *= u;
      }
      if (over_data && count != 0)
        throw Error(t + ": shape " + shape_string(st.shape) +
                    " holds more elements than the file has bytes (truncated or corrupt)");
      const auto& offsets = entry.at("data_offsets");
      if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
          !offsets[1].is_number_unsigned())
        throw Error(t + ": data_offsets must be two non-negative integers");
      const auto begin = offsets[0].get<std::uint64_t>();
      const auto end = offsets[1].get<std::uint64_t>();
      if (begin > end || end > data_size)
        throw Error(t + ": data offsets outside the file (truncated or corrupt)");
      std::size_t elem;
      if (dtype == "F32" || dtype == "I32")
        elem = 4;
      else if (dtype == "F16" || dtype == "BF16")
        elem = 2;
      else if (dtype == "I64")
        elem = 8;
      else
        throw Error(t + ": dtype " + dtype +
                    " is not supported (F32, F16, BF16; I64/I32 buffers); convert the tensor to "
                    "float32");
      if (end - begin != count * elem)
        throw Error(t + ": " + std::to_string(end - begin) + " bytes do not match shape (" +
                    std::to_string(count) + " elements of " + dtype + ")");
      st.data.resize(count);
      const char* src = b.data() + base + begin;
      if (dtype == "F32") {
        // An empty tensor's vector holds no buffer, and memcpy from or to null is undefined.
        if (count) std::memcpy(st.data.data(), src, count * 4);
      } else if (dtype == "I64" || dtype == "I32") {
        // Integer buffers (BatchNorm's num_batches_tracked, timm's attention_bias_idxs) are
        // kept as floats so that a state dict saved as is loads; Model ignores them.
        for (std::size_t i = 0; i < count; ++i) {
          if (dtype == "I64") {
            std::int64_t v;
            std::memcpy(&v, src + 8 * i, 8);
            st.data[i] = static_cast<float>(v);
          } else {
            std::int32_t v;
            std::memcpy(&v, src + 4 * i, 4);
            st.data[i] = static_cast<float>(v);
          }
        }
      } else {
        for (std::size_t i = 0; i < count; ++i) {
          std::uint16_t h;
          std::memcpy(&h, src + 2 * i, 2);
          st.data[i] = dtype == "F16" ? half_to_float(h)
                                      : std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
        }
      }
      store.tensors.emplace(name, std::move(st));
    } catch (const nlohmann::json::exception& e) {
      throw Error(t + ": malformed header entry (" + e.what() + ")");
    }
  }
  return store;
}

void save_safetensors(const std::string& path, const WeightStore& store) {
  nlohmann::json header = nlohmann::json::object();
  std::size_t offset = 0;
  for (const auto& [name, t] : store.tensors) {
    std::size_t count = 1;
    for (auto d : t.shape) count *= static_cast<std::size_t>(d);
    if (count != t.data.size())
      throw Error("save_safetensors: tensor '" + name + "' shape does not match its data");
    header[name] = {
        {"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + count * 4}}};
    offset += count * 4;
  }
  if (!store.metadata.empty()) header["__metadata__"] = store.metadata;
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');
  const std::uint64_t len = h.size();
  std::string bytes(reinterpret_cast<const char*>(&len), 8);
  bytes += h;
  for (const auto& [name, t] : store.tensors)
    bytes.append(reinterpret_cast<const char*>(t.data.data()), t.data.size() * 4);
  write_file_atomic(path, bytes);
}

}  // namespace hwnas
