#include "evaluators/accuracy/bn_stats_cache.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "core/error.h"

namespace hwnas {

namespace {

std::uint64_t fnv1a(const char* data, std::size_t n, std::uint64_t h = 0xcbf29ce484222325ull) {
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string hex16(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

std::string file_fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read '" + path + "' to fingerprint it");
  std::uint64_t h = 0xcbf29ce484222325ull;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h = fnv1a(buf.data(), static_cast<std::size_t>(in.gcount()), h);
  }
  return hex16(h);
}

BnStatsCache::BnStatsCache(std::string dir) : dir_(std::move(dir)) {}

std::string BnStatsCache::key(const std::string& arch_json, const std::string& weights_fingerprint,
                              const std::string& data_id) {
  return arch_json + "\n" + weights_fingerprint + "\n" + data_id;
}

std::string BnStatsCache::path_for(const std::string& key) const {
  return dir_ + "/bn-" + hex16(fnv1a(key.data(), key.size())) + ".safetensors";
}

WeightStore BnStatsCache::get_or_compute(const std::string& key,
                                         const std::function<WeightStore()>& compute, bool* hit) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = memory_.find(key);
    if (it != memory_.end()) {
      if (hit) *hit = true;
      return it->second;
    }
    if (!dir_.empty() && std::filesystem::exists(path_for(key))) {
      WeightStore s = load_safetensors(path_for(key));
      auto k = s.metadata.find("key");
      if (k != s.metadata.end() && k->second == key) {
        memory_[key] = s;
        if (hit) *hit = true;
        return s;
      }
    }
  }
  if (hit) *hit = false;
  WeightStore stats = compute();
  stats.metadata["key"] = key;
  std::lock_guard<std::mutex> lock(mutex_);
  memory_[key] = stats;
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec)
      throw Error("cannot create the BN statistics cache folder '" + dir_ + "': " + ec.message());
    const std::string path = path_for(key);
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    save_safetensors(tmp, stats);
    std::filesystem::rename(tmp, path, ec);
    if (ec)
      throw Error("cannot write the BN statistics cache file '" + path + "': " + ec.message());
  }
  return stats;
}

}  // namespace hwnas
