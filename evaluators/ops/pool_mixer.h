// PoolFormer token mixer with layer scale and residual fused (Yu et al., CVPR 2022; timm
// efficientformer.Pooling + LayerScale2d + residual).
#pragma once

#include "evaluators/ops/op_params.h"

namespace hwnas {

/// out = in + ls * (avgpool(in) - in), per channel; avgpool is p.pool x p.pool, stride 1,
/// pad p.pool/2, count_include_pad=False. in/out (B,H,W,c), distinct; ls (c).
/// Throws hwnas::Error via validate().
void pool_mixer(const PoolMixerParams& p, const Tensor& in, const float* ls, Tensor& out);
/// Rows [y0, y1) of image b only, on the calling thread (for fused block tiles).
void pool_mixer_rows(const PoolMixerParams& p, const Tensor& in, const float* ls, Tensor& out,
                     int b, int y0, int y1);
/// Reference: plain average pooling in double, then the layer-scaled residual.
void pool_mixer_reference(const PoolMixerParams& p, const Tensor& in, const float* ls,
                          Tensor& out);

}  // namespace hwnas
