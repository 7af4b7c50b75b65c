// Multi-head self-attention core with EfficientFormer's relative attention bias
// (Li et al., NeurIPS 2022; timm efficientformer.Attention, from LeViT's attention bias).
#pragma once

#include "evaluators/ops/op_params.h"

namespace hwnas {

/// qkv (B, h, w, heads*(2kd+dv)) as the qkv Linear writes it, split per head first (timm:
/// reshape(B,N,heads,-1) then split [kd, kd, dv]); bias (heads, h*w) indexed by
/// |drow|*w + |dcol| of the query and key tokens; out (B, h, w, heads*dv), heads concatenated.
/// Fast form: one task per (batch, head), Eigen GEMMs on strided views, fused scale + bias +
/// softmax. Throws hwnas::Error via validate().
void efficientformer_attention(const EfficientFormerAttentionParams& p, const Tensor& qkv,
                               const float* bias, Tensor& out);
/// Plain loops in double, softmax_rows_reference.
void efficientformer_attention_reference(const EfficientFormerAttentionParams& p, const Tensor& qkv,
                                         const float* bias, Tensor& out);

}  // namespace hwnas
