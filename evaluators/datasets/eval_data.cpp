#include "evaluators/datasets/eval_data.h"

#include <filesystem>
#include <numeric>

#include "core/error.h"
#include "evaluators/datasets/fashion_mnist.h"
#include "evaluators/datasets/image_folder.h"

namespace hwnas {

EvalData open_eval_data(const std::string& dataset, const std::string& split, std::uint64_t seed,
                        int resolution, std::size_t recal_images) {
  if (split != "val" && split != "test")
    throw Error("unknown split '" + split + "' (use val or test)");
  EvalData d;
  const std::string tag =
      ":seed=" + std::to_string(seed) + ":recal=" + std::to_string(recal_images);
  const bool fmnist =
      dataset == "fashion-mnist" ||
      std::filesystem::exists(std::filesystem::path(dataset) / "train-images-idx3-ubyte.gz");
  if (fmnist) {
    const std::string dir = locate_fashion_mnist(dataset == "fashion-mnist" ? "" : dataset);
    auto train = std::make_shared<const FashionMnist>(dir, true, resolution);
    const FashionMnistSplit s = fashion_mnist_split(seed, train->size());
    d.recal.assign(s.train.begin(), s.train.begin() + static_cast<std::ptrdiff_t>(
                                                          std::min(recal_images, s.train.size())));
    d.recal_set = train;
    if (split == "val") {
      d.eval_set = train;
      d.eval = s.val;
    } else {
      auto test = std::make_shared<const FashionMnist>(dir, false, resolution);
      d.eval.resize(test->size());
      std::iota(d.eval.begin(), d.eval.end(), std::size_t{0});
      d.eval_set = test;
    }
    d.recal_id = "fashion-mnist" + fashion_mnist_resolution_tag(resolution) + tag;
  } else {
    auto folder = std::make_shared<const ImageFolder>(dataset, resolution);
    RecalSplit s = recal_split(folder->size(), seed, recal_images);
    d.recal = std::move(s.recal);
    d.eval = std::move(s.held_out);
    d.recal_set = d.eval_set = folder;
    d.recal_id = folder->id() + ":n=" + std::to_string(folder->size()) + tag;
  }
  return d;
}

}  // namespace hwnas
