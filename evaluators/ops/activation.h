// Elementwise activations: ReLU, GELU (erf form, PyTorch's nn.GELU default) and Hardswish
// (Howard et al., MobileNetV3, ICCV 2019; torch.nn.Hardswish), ElasticViT's activation.
#pragma once

#include <cstddef>
#include <string_view>

namespace hwnas {

enum class Activation { none, relu, gelu, hardswish };

std::string_view activation_name(Activation act);

/// In place on n floats. GELU(x) = x/2 * (1 + erf(x/sqrt 2)) (Hendrycks & Gimpel 2016;
/// torch.nn.GELU(approximate='none')). The fast form uses Eigen's vectorised float erf
/// (abs. error < 1e-6 against the double reference). Hardswish(x) = x * relu6(x + 3) / 6.
void apply_activation(Activation act, float* x, std::size_t n);
/// Plain loop, std::erf in double.
void apply_activation_reference(Activation act, float* x, std::size_t n);

}  // namespace hwnas
