#include "evaluators/ops/activation.h"

#include <algorithm>
#include <cmath>

#include "evaluators/ops/eigen.h"

namespace hwnas {

std::string_view activation_name(Activation act) {
  switch (act) {
    case Activation::none:
      return "none";
    case Activation::relu:
      return "relu";
    case Activation::gelu:
      return "gelu";
    case Activation::hardswish:
      return "hardswish";
  }
  return "?";
}

void apply_activation(Activation act, float* x, std::size_t n) {
#if HWNAS_REFERENCE_KERNELS
  apply_activation_reference(act, x, n);
#else
  Eigen::Map<Eigen::ArrayXf> a(x, static_cast<Eigen::Index>(n));
  switch (act) {
    case Activation::none:
      break;
    case Activation::relu:
      a = a.max(0.0f);
      break;
    case Activation::gelu:
      a = 0.5f * a * (1.0f + (a * 0.70710678118654752f).erf());
      break;
    case Activation::hardswish:
      // A plain loop: GCC vectorises it into one fused pass.
      for (std::size_t i = 0; i < n; ++i)
        x[i] = x[i] * std::clamp(x[i] + 3.0f, 0.0f, 6.0f) * (1.0f / 6.0f);
      break;
  }
#endif
}

void apply_activation_reference(Activation act, float* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const double v = x[i];
    switch (act) {
      case Activation::none:
        break;
      case Activation::relu:
        x[i] = static_cast<float>(v > 0 ? v : 0.0);
        break;
      case Activation::gelu:
        x[i] = static_cast<float>(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))));
        break;
      case Activation::hardswish:
        x[i] = static_cast<float>(v * std::clamp(v + 3.0, 0.0, 6.0) / 6.0);
        break;
    }
  }
}

}  // namespace hwnas
