// Hiera's mask unit attention with optional Q-pooling (Ryali et al., "Hiera: A Hierarchical
// Vision Transformer without the Bells-and-Whistles", ICML 2023; timm hiera.py
// MaskUnitAttention; exact order in shared/golden/hiera_blocks.md section 4).
//
// Token layout: hwnas keeps Hiera's tokens in spatial NHWC order (token (y, x) of an h x w map
// at row y*w + x), not in timm's "unrolled" order. In spatial order a mask unit is an aligned
// window x window square and Q-pooling is a 2x2 stride-2 max inside it, so the block needs no
// token permutation at all and timm's "reroll" of a stage output is the identity.
#pragma once

#include "evaluators/ops/op_params.h"

namespace hwnas {

/// qkv (B, h, w, 3*heads*head_dim) as the qkv Linear writes it ([q | k | v], head j at
/// channels j*head_dim.. of each part); out (B, out_h, out_w, heads*head_dim), heads
/// concatenated (channel j*head_dim + d). Each (window, head) attends independently: with
/// p.qpool, query (y, x) of the output map is the per-channel max of the 4 queries
/// (2y+u, 2x+v), u, v in {0, 1}, and attends to all window x window un-pooled keys/values of
/// its window. Fast form: one task per (batch, window, head), the window gathered into
/// contiguous scratch, two Eigen GEMMs and a row softmax. Throws hwnas::Error via validate().
void window_attention(const WindowAttentionParams& p, const Tensor& qkv, Tensor& out);
/// Plain loops in double (pooling, scaled dot products, softmax, weighted sum).
void window_attention_reference(const WindowAttentionParams& p, const Tensor& qkv, Tensor& out);

}  // namespace hwnas
