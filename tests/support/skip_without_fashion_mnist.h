// One skip rule for every test that reads the Fashion-MNIST images: where they are not
// installed (scripts/install-deps.sh fetches them), the test has nothing to score and says why.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "evaluators/datasets/fashion_mnist.h"

namespace hwnas::test {

/// Why the Fashion-MNIST images cannot be used here (locate_fashion_mnist's error), or "".
inline std::string fashion_mnist_missing() {
  try {
    (void)locate_fashion_mnist();
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

}  // namespace hwnas::test

/// Skips the calling test where the Fashion-MNIST images are not installed.
#define HWNAS_SKIP_WITHOUT_FASHION_MNIST()                                          \
  if (const std::string why = ::hwnas::test::fashion_mnist_missing(); !why.empty()) \
  GTEST_SKIP() << why
