// Multi-head self-attention core with an additive per-head bias over all query/key pairs, q/k
// and v in separate tensors. ElasticViT's attention (Tang et al., ICCV 2023; microsoft/Moonlit
// ElasticViT/models/transformer.py): its values pass a depthwise conv before the product and its
// relative-position bias is a (2h-1)(2w-1) table per head, expanded to the dense (n x n) bias
// once at load (evaluators/blocks/evit_attention_block.cpp).
#pragma once

#include "evaluators/ops/op_params.h"

namespace hwnas {

/// qk (B, h, w, heads*2kd) with head i's query in channels [2i*kd, (2i+1)*kd) and its key in
/// the next kd; v (B, h, w, heads*dv) with head i's values in [i*dv, (i+1)*dv); bias
/// (heads, n, n) row-major (query, key); out (B, h, w, heads*dv), heads concatenated, distinct
/// from the inputs. out_i = softmax(q_i k_i^T / sqrt(kd) + bias_i) v_i.
/// Fast form: one task per (batch, head), Eigen GEMMs on strided views, fused scale + bias +
/// softmax. Throws hwnas::Error via validate().
void biased_attention(const BiasedAttentionParams& p, const Tensor& qk, const Tensor& v,
                      const float* bias, Tensor& out);
/// Plain loops in double, softmax_rows_reference.
void biased_attention_reference(const BiasedAttentionParams& p, const Tensor& qk, const Tensor& v,
                                const float* bias, Tensor& out);

}  // namespace hwnas
