// Average pooling, stride 1, "same" padding, padding not counted (torch.nn.AvgPool2d(k, 1, k//2,
// count_include_pad=False), PoolFormer's token mixer).
#pragma once

#include "evaluators/ops/op_params.h"

namespace hwnas {

/// out(b,y,x,c) = mean of in over the p.pool x p.pool window around (y,x) that lies inside the
/// image, in double. in/out (B,H,W,c), distinct. The reference for pool_mixer.h's fused kernel
/// (the engine never pools without the mixer). Throws hwnas::Error via validate().
void avg_pool_exclude_pad_reference(const PoolMixerParams& p, const Tensor& in, Tensor& out);

}  // namespace hwnas
