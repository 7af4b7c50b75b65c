// Layer scale + residual add (CaiT's LayerScale, Touvron et al. 2021): out = x + gamma * y.
#pragma once

#include "evaluators/engine/tensor.h"

namespace hwnas {

/// out = x + gamma * y, gamma per channel (c floats); x, y, out of one shape, out may alias x.
/// The fast blocks fold gamma into the preceding linear layer instead; this is the unfused form.
/// Throws hwnas::Error on a shape mismatch.
void scale_add(const Tensor& x, const float* gamma, const Tensor& y, Tensor& out);
/// Double arithmetic.
void scale_add_reference(const Tensor& x, const float* gamma, const Tensor& y, Tensor& out);

}  // namespace hwnas
