// Mean over tokens (the classifier head's global average pool; timm forward_head x.mean(dim=1)).
#pragma once

#include "evaluators/engine/tensor.h"

namespace hwnas {

/// out (B,1,1,c) = mean over the h*w tokens of in (B,h,w,c). Throws hwnas::Error on a shape
/// mismatch or an empty input.
void mean_tokens(const Tensor& in, Tensor& out);
/// Double accumulation.
void mean_tokens_reference(const Tensor& in, Tensor& out);

}  // namespace hwnas
