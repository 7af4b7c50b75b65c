// PoolFormer token mixer with layer scale and residual fused (Yu et al., CVPR 2022; timm
// efficientformer.Pooling + LayerScale2d + residual).
#pragma once

#include "evaluators/ops/op_params.h"

namespace hwnas {

/// out = in + ls * (avgpool(in) - in), per channel; avgpool is p.pool x p.pool, stride 1,
/// pad p.pool/2, count_include_pad=False. in/out (B,H,W,c), distinct; ls (c).
/// Throws hwnas::Error via validate().
void pool_mixer(const PoolMixerParams& p, const Tensor& in, const float* ls, Tensor& out);
/// Pixels [p0, p1) (row-major y*w+x) of image b only, on the calling thread (fused block
/// tiles): writes (p1 - p0) rows of c floats to dst. No validation (the caller's block did it).
void pool_mixer_pixels(const PoolMixerParams& p, const Tensor& in, const float* ls, int b, int p0,
                       int p1, float* dst);
/// Reference: avg_pool_reference, then the layer-scaled residual in double.
void pool_mixer_reference(const PoolMixerParams& p, const Tensor& in, const float* ls, Tensor& out);

}  // namespace hwnas
