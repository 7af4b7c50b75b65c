// Cache of recalibrated BatchNorm statistics per arch: recalibration costs several forward
// passes, and a search asks for the same arch's accuracy more than once.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "evaluators/io/safetensors.h"

namespace hwnas {

/// FNV-1a 64-bit hash of a file's bytes as 16 hex digits (identifies a weights file in cache
/// keys). Throws hwnas::Error naming the file if it cannot be read.
std::string file_fingerprint(const std::string& path);

/// Recalibrated BN statistics (WeightStores of running_mean/var tensors) by key, in memory and,
/// when a directory is given, on disk as `<dir>/bn-<hash of key>.safetensors` (the full key in
/// its metadata, so that a hash collision reads as a miss). Files are written to a temporary
/// name and renamed, so concurrent processes never read a partial file. Thread-safe.
class BnStatsCache {
 public:
  /// `dir` empty: memory only. The directory is created on the first store.
  explicit BnStatsCache(std::string dir = "");

  /// The cache key: arch JSON, weights file fingerprint and the recalibration data's identity
  /// (dataset, seed, image count), one per line.
  static std::string key(const std::string& arch_json, const std::string& weights_fingerprint,
                         const std::string& data_id);

  /// The statistics under `key`: from memory, else from disk, else compute() (stored in both).
  /// `hit` (optional) says whether compute() was skipped. Throws what compute() throws, or
  /// hwnas::Error if the cache file cannot be written.
  WeightStore get_or_compute(const std::string& key, const std::function<WeightStore()>& compute,
                             bool* hit = nullptr);

 private:
  std::string path_for(const std::string& key) const;
  std::string dir_;
  std::mutex mutex_;
  std::map<std::string, WeightStore> memory_;
};

}  // namespace hwnas
