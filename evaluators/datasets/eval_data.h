// The data of an accuracy evaluation: the images BN recalibration runs on and the held-out
// images that are scored, from a dataset argument as the CLI takes it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "evaluators/datasets/image_dataset.h"

namespace hwnas {

struct EvalData {
  std::shared_ptr<const ImageDataset> recal_set;
  std::vector<std::size_t> recal;  ///< indices into recal_set, in recalibration order
  std::shared_ptr<const ImageDataset> eval_set;
  std::vector<std::size_t> eval;  ///< indices into eval_set, in scoring order
  std::string recal_id;           ///< identity of the recalibration images (cache keys)
};

/// `dataset` is "fashion-mnist" (located by locate_fashion_mnist), a folder holding the
/// Fashion-MNIST IDX files, or an ImageFolder DIR/<class>/*.jpg|png at `resolution`.
/// Fashion-MNIST follows the contracts (64x64 or 128x128 by `resolution`, fashion_mnist_upsample):
/// recal = the first `recal_images` of fashion_mnist_split's
/// train part; split "val" scores its val part, "test" the 10,000 t10k images. An ImageFolder
/// is split by recal_split(n, seed, recal_images), and both splits score the held-out part.
/// Throws hwnas::Error for an unknown split (not val or test) and as the dataset readers.
EvalData open_eval_data(const std::string& dataset, const std::string& split, std::uint64_t seed,
                        int resolution, std::size_t recal_images = 512);

}  // namespace hwnas
