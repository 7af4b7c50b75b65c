#include "predictors/supernet_accuracy.h"

#include <chrono>

namespace hwnas {

SupernetAccuracy::SupernetAccuracy(const SearchSpace& space, const std::string& weights_path,
                                   SubnetEvalOptions options)
    : space_(space), evaluator_(space, weights_path, std::move(options)) {}

std::vector<double> SupernetAccuracy::predict(const std::vector<Arch>& archs) {
  std::vector<double> out;
  out.reserve(archs.size());
  for (const Arch& a : archs) {
    const std::string key = space_.to_json(a).dump();
    {
      std::lock_guard lock(mutex_);
      if (const auto it = cache_.find(key); it != cache_.end()) {
        out.push_back(it->second);
        continue;
      }
    }
    const auto t0 = std::chrono::steady_clock::now();
    const SubnetEvalResult r = evaluator_.evaluate(a);
    const double top1 = r.accuracy.top1;
    std::lock_guard lock(mutex_);
    if (!r.bn_note.empty()) bn_note_ = r.bn_note;
    cache_[key] = top1;
    ++evaluations_;
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.push_back(top1);
  }
  return out;
}

std::size_t SupernetAccuracy::samples(const Arch& arch) { return evaluator_.scored_images(arch); }

std::string SupernetAccuracy::source() const {
  const SubnetEvalOptions& o = evaluator_.options();
  std::lock_guard lock(mutex_);
  return "supernet:" + evaluator_.weights_path() + " (" + o.dataset + " " + o.split + ", " +
         (o.samples ? std::to_string(o.samples) : std::string("all")) + " images, " +
         (!bn_note_.empty() ? "BN not recalibrated: " + bn_note_
          : o.recalibrate
              ? "BN recalibrated on " + std::to_string(o.recal_images) + " training images"
              : std::string("checkpoint BN statistics")) +
         ")";
}

int SupernetAccuracy::evaluations() const {
  std::lock_guard lock(mutex_);
  return evaluations_;
}

double SupernetAccuracy::seconds() const {
  std::lock_guard lock(mutex_);
  return seconds_;
}

}  // namespace hwnas
