// Token reductions and elementwise residual operators.
#pragma once

#include "evaluators/tensor.h"

namespace hwnas {

/// out (B,1,1,c) = mean over the h*w tokens of in (B,h,w,c). Throws hwnas::Error on a shape
/// mismatch.
void mean_tokens(const Tensor& in, Tensor& out);
void mean_tokens_reference(const Tensor& in, Tensor& out);

/// Layer scale + residual add: out = x + gamma * y, gamma per channel (c floats); out may
/// alias x. Throws hwnas::Error on a shape mismatch.
void scale_add(const Tensor& x, const float* gamma, const Tensor& y, Tensor& out);
void scale_add_reference(const Tensor& x, const float* gamma, const Tensor& y, Tensor& out);

}  // namespace hwnas
