#include "evaluators/accuracy/accuracy.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "core/error.h"
#include "evaluators/engine/model.h"
#include "evaluators/runtime/parallel.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {

void check_dataset_fits(const Network& net, const ImageDataset& set) {
  const int classes = block_output_shape(net.blocks.back()).c;
  if (set.num_classes() != classes)
    throw Error("dataset '" + set.id() + "' has " + std::to_string(set.num_classes()) +
                " classes but the network predicts " + std::to_string(classes) +
                ": use a space built for this dataset");
  const FeatureShape s = set.image_shape();
  if (s.h != net.input.h || s.w != net.input.w || s.c != net.input.c)
    throw Error("dataset '" + set.id() + "' images are " + std::to_string(s.h) + "x" +
                std::to_string(s.w) + "x" + std::to_string(s.c) + ", the network takes " +
                std::to_string(net.input.h) + "x" + std::to_string(net.input.w) + "x" +
                std::to_string(net.input.c));
}

AccuracyResult evaluate_accuracy(const Network& net, const WeightStore& weights,
                                 const ImageDataset& set, const std::vector<std::size_t>& indices,
                                 int batch, int threads, const QuantPlan* int8) {
  if (batch < 1 || threads < 1) throw Error("evaluate_accuracy: batch and threads must be >= 1");
  check_dataset_fits(net, set);
  const int classes = block_output_shape(net.blocks.back()).c;
  ThreadScope scope(threads);
  // Batches are the parallel unit here: this thread's forwards must not also fan out to the
  // scope's SpinPool (its worker would compete with TBB's); nested loops fall back to TBB.
  struct PoolOff {
    SpinPool* previous = set_current_spin_pool(nullptr);
    ~PoolOff() { set_current_spin_pool(previous); }
  } pool_off;
  // One model built up front: its errors (bad weights) surface here, not inside a worker.
  Model first = Model::from_weights(net, weights);
  if (int8) quantize_int8(first, *int8);
  tbb::enumerable_thread_specific<std::unique_ptr<Model>> models;
  std::atomic<bool> first_taken{false};

  AccuracyResult r;
  r.samples = indices.size();
  r.predictions.assign(indices.size(), -1);
  std::vector<char> in_top5(indices.size(), 0);
  const std::size_t batches = (indices.size() + batch - 1) / batch;
  const auto t0 = std::chrono::steady_clock::now();
  tbb::parallel_for(std::size_t{0}, batches, [&](std::size_t b) {
    std::unique_ptr<Model>& m = models.local();
    if (!m) {
      if (first_taken.exchange(true)) {
        m = std::make_unique<Model>(Model::from_weights(net, weights));
        if (int8) quantize_int8(*m, *int8);
      } else {
        m = std::make_unique<Model>(std::move(first));
      }
    }
    const std::size_t begin = b * batch, end = std::min(indices.size(), begin + batch);
    const Tensor x = load_batch(set, indices, begin, end);
    Tensor logits;
    tbb::this_task_arena::isolate([&] { m->forward(x, logits); });
    for (std::size_t i = begin; i < end; ++i) {
      const float* l = logits.data() + (i - begin) * classes;
      const int pred = static_cast<int>(std::max_element(l, l + classes) - l);
      const int label = set.label(indices[i]);
      int above = 0;  // classes ranked ahead of the label (ties rank by lower index)
      for (int c = 0; c < classes; ++c) above += l[c] > l[label] || (l[c] == l[label] && c < label);
      r.predictions[i] = pred;
      in_top5[i] = above < 5;
    }
  });
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::size_t top1 = 0, top5 = 0;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    top1 += r.predictions[i] == set.label(indices[i]);
    top5 += in_top5[i];
  }
  r.top1_correct = top1;
  r.top5_correct = top5;
  if (!indices.empty()) {
    r.top1 = static_cast<double>(top1) / indices.size();
    r.top5 = static_cast<double>(top5) / indices.size();
  }
  r.images_per_second = r.seconds > 0 ? indices.size() / r.seconds : 0;
  return r;
}

}  // namespace hwnas
