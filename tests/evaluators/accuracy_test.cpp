// Accuracy evaluation: top-1 / top-5 at 2 threads against a serial loop over Model::forward.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "evaluators/accuracy/accuracy.h"
#include "evaluators/engine/model.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "spaces/registry.h"
#include "tests/evaluators/random_supernet.h"

namespace hwnas {
namespace {

// Seeded random images with seeded labels.
class RandomImages final : public ImageDataset {
 public:
  RandomImages(std::size_t n, int classes) : n_(n), classes_(classes) {}
  const std::string& id() const override { return id_; }
  std::size_t size() const override { return n_; }
  int num_classes() const override { return classes_; }
  FeatureShape image_shape() const override { return {64, 64, 1}; }
  int label(std::size_t i) const override { return static_cast<int>((i * 7 + 3) % classes_); }
  void load(std::size_t i, float* dst) const override {
    Rng rng(100 + i);
    for (int p = 0; p < 64 * 64; ++p) dst[p] = static_cast<float>(2 * uniform_real(rng) - 1);
  }

 private:
  std::string id_ = "random";
  std::size_t n_;
  int classes_;
};

TEST(Accuracy, MatchesSerialForward) {
  const SearchSpace& space = get_space("efficientformer-fmnist");
  const Arch m = space.resolve("m");
  const Network net = space.decode(m);
  const WeightStore w = slice_supernet(space, m, test::random_fmnist_supernet(4));
  const RandomImages set(40, 10);
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < 37; ++i) idx.push_back((i * 13) % 40);
  const AccuracyResult r = evaluate_accuracy(net, w, set, idx, /*batch=*/5, /*threads=*/2);
  // Serial reference: one image at a time, ranks counted by sorting.
  Model model = Model::from_weights(net, w);
  std::size_t top1 = 0, top5 = 0;
  ASSERT_EQ(r.predictions.size(), idx.size());
  for (std::size_t i = 0; i < idx.size(); ++i) {
    Tensor x(1, 64, 64, 1);
    set.load(idx[i], x.data());
    const Tensor l = model.forward(x);
    std::vector<int> order(10);
    for (int c = 0; c < 10; ++c) order[c] = c;
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return l.data()[a] > l.data()[b]; });
    EXPECT_EQ(r.predictions[i], order[0]) << i;
    top1 += order[0] == set.label(idx[i]);
    top5 += std::find(order.begin(), order.begin() + 5, set.label(idx[i])) != order.begin() + 5;
  }
  EXPECT_EQ(r.samples, 37u);
  EXPECT_DOUBLE_EQ(r.top1, top1 / 37.0);
  EXPECT_DOUBLE_EQ(r.top5, top5 / 37.0);
  EXPECT_GT(r.top5, 0.2);  // random logits put a label in the top 5 about half the time
  EXPECT_GT(r.images_per_second, 0);
}

TEST(Accuracy, WrongClassCountOrShape) {
  const SearchSpace& space = get_space("efficientformer-fmnist");
  const Arch s = space.resolve("s");
  const WeightStore w = slice_supernet(space, s, test::random_fmnist_supernet(4));
  const RandomImages hundred(4, 100);
  try {
    evaluate_accuracy(space.decode(s), w, hundred, {0, 1});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("100 classes"), std::string::npos) << e.what();
  }
  WeightStore broken = w;
  broken.tensors.erase("head.weight");
  EXPECT_THROW(evaluate_accuracy(space.decode(s), broken, RandomImages(4, 10), {0, 1}), Error);
}

}  // namespace
}  // namespace hwnas
