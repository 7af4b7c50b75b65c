// Strided average pooling with zero padding counted in the mean (torch.nn.AvgPool2d(k, s, pad),
// count_include_pad=True, floor mode): ElasticViT's downsampling shortcut (avg_pool_include_pad(x,
// 2, 2, padding 0 or 1)).
#pragma once

#include "evaluators/ops/op_params.h"

namespace hwnas {

/// out(b,y,x,c) = (1/k^2) * sum over the k x k window at (y*s - pad, x*s - pad) of in, reading
/// zeros outside the image. in (B,H,W,c), out (B,Ho,Wo,c) with Ho = floor((H+2pad-k)/s)+1;
/// distinct. Throws hwnas::Error via validate().
void avg_pool_include_pad(const AvgPoolIncludePadParams& p, const Tensor& in, Tensor& out);
/// Plain loops in double.
void avg_pool_include_pad_reference(const AvgPoolIncludePadParams& p, const Tensor& in,
                                    Tensor& out);

}  // namespace hwnas
